"""Who reads a tier's guide: members of that tier or a higher one, while the membership is good."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from members import clock, services
from members.models import Membership, MembershipSettings, Status
from tests.conftest import make_user
from tests.members.conftest import SECRET

pytestmark = pytest.mark.django_db


def _member(user: Any, tier: Any, **state: Any) -> Membership:
    now = clock.now()
    fields = {
        "status": Status.ACTIVE,
        "current_period_start": now - dt.timedelta(days=10),
        "current_period_end": now + dt.timedelta(days=20),
        "stripe_subscription_id": f"sub_{user.pk}",
        **state,
    }
    return Membership.objects.create(user=user, tier=tier, **fields)


def _reads(client: Any, user: Any, guide: Any) -> tuple[bool, bool]:
    """(the page shows the gated text, search matches a word only in it)."""
    client.force_login(user)
    page = SECRET in client.get(guide.get_absolute_url()).content.decode()
    found = client.get("/api/guides/search/?q=zebracorn").json()["results"]
    return page, any(hit["slug"] == guide.slug and hit["full_text"] for hit in found)


def test_a_tier_guide_is_read_in_page_and_search_only_by_members_of_that_tier_or_higher(
    client, member_tier, pro_tier, tier_guide, pro_guide
):
    nobody = make_user("free@example.com")
    member = make_user("member@example.com")
    pro = make_user("pro@example.com")
    _member(member, member_tier)
    _member(pro, pro_tier)
    assert _reads(client, nobody, tier_guide) == (False, False)
    assert _reads(client, member, tier_guide) == (True, True)
    assert _reads(client, member, pro_guide) == (False, False)
    assert _reads(client, pro, tier_guide) == (True, True)
    assert _reads(client, pro, pro_guide) == (True, True)
    client.logout()
    body = client.get(tier_guide.get_absolute_url()).content.decode()
    assert SECRET not in body and "See membership plans" in body


def test_a_past_due_member_keeps_access_for_the_grace_period_the_coach_set_then_loses_it(
    client, member_tier, tier_guide, time_machine
):
    MembershipSettings.objects.update_or_create(pk=1, defaults={"grace_days": 5})
    user = make_user("member@example.com")
    renewal = clock.now()
    _member(
        user,
        member_tier,
        status=Status.PAST_DUE,
        current_period_start=renewal,
        current_period_end=renewal + dt.timedelta(days=30),
    )
    time_machine.move_to(renewal + dt.timedelta(days=4, hours=23))
    assert _reads(client, user, tier_guide) == (True, True)
    time_machine.move_to(renewal + dt.timedelta(days=5, hours=1))
    assert _reads(client, user, tier_guide) == (False, False)


def test_a_membership_canceled_at_period_end_reads_until_the_end_and_not_after(
    client, member_tier, tier_guide, time_machine
):
    user = make_user("member@example.com")
    membership = _member(user, member_tier, cancel_at_period_end=True)
    period_end = membership.current_period_end
    assert period_end is not None
    time_machine.move_to(period_end - dt.timedelta(minutes=1))
    assert _reads(client, user, tier_guide) == (True, True)
    # Even before Stripe's deleted event arrives, the period paid for is over.
    time_machine.move_to(period_end + dt.timedelta(minutes=1))
    assert _reads(client, user, tier_guide) == (False, False)


@pytest.mark.parametrize(
    ("status", "renewed_days_ago", "access"),
    [
        (Status.ACTIVE, 10, True),
        (Status.TRIALING, 10, True),
        (Status.PAST_DUE, 6, True),
        (Status.PAST_DUE, 8, False),
        (Status.UNPAID, 1, False),
        (Status.CANCELED, 1, False),
        (Status.INCOMPLETE, 1, False),
        (Status.INCOMPLETE_EXPIRED, 1, False),
        (Status.PAUSED, 1, False),
    ],
)
def test_access_follows_the_subscription_status_in_python_and_sql_alike(
    member_tier, status, renewed_days_ago, access
):
    membership = _member(
        make_user("member@example.com"),
        member_tier,
        status=status,
        current_period_start=clock.now() - dt.timedelta(days=renewed_days_ago),
    )
    assert services.has_access(membership) is access
    in_sql = Membership.objects.with_access(clock.now(), 7).filter(pk=membership.pk).exists()
    assert in_sql is access


def test_members_pay_their_tier_s_discount_in_the_store_and_others_do_not(member_tier):
    from store.services import member_discount

    member = make_user("member@example.com")
    _member(member, member_tier)
    assert member_discount(user=member, subtotal=2900) == 580  # 20%
    assert member_discount(user=make_user("free@example.com"), subtotal=2900) == 0
    # Never below the 0.50 a card payment needs.
    member_tier.product_discount_percent = 100
    member_tier.save()
    assert member_discount(user=member, subtotal=2900) == 2850


def test_a_member_s_checkout_in_the_store_carries_the_tier_s_discount(member_tier):
    from store.models import Product
    from store.services import start_checkout
    from tests.store.factories import ProductFactory

    member = make_user("member@example.com")
    _member(member, member_tier)
    ProductFactory(slug="sprint-notes", price=2900)
    product = Product.objects.get(slug="sprint-notes")
    started = start_checkout(
        product=product,
        email=member.email,
        user=member,
        success_url="http://testserver/store/checkout/success/",
        cancel_url="http://testserver/store/",
    )
    assert (started.order.discount, started.order.total) == (580, 2320)


def test_a_tier_guides_paid_passages_answer_a_question_by_meaning_only_for_its_members(
    client, member_tier, django_capture_on_commit_callbacks
):
    """The semantic side asks the same rule, tier included (guides/semantic.py)."""
    from tests.guides.factories import GuideFactory

    secret = "Counter every salary offer: ask for equity, a signing bonus and a higher base."
    with django_capture_on_commit_callbacks(execute=True):  # the embedding task runs
        guide = GuideFactory(
            title="Mountain notes",
            summary="Packing.",
            body=f"Pack layers for the weather.\n\n<!-- more -->\n\n{secret}\n",
            visibility="tier",
            tier="member",
        )
    question = "how do I negotiate a higher salary and equity"

    def snippets() -> list[str]:
        results = client.get("/api/guides/search/", {"q": question}).json()["results"]
        return [r["snippet"] for r in results if r["slug"] == guide.slug]

    client.force_login(make_user("free@example.com"))
    assert not any("equity" in s for s in snippets())
    member = make_user("member@example.com")
    _member(member, member_tier)
    client.force_login(member)
    assert any("equity" in s for s in snippets())
