"""The pricing page, the member's page and the simulated provider, through the test client."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from coaching.models import OutboundEmail
from members.models import Membership, MembershipInvoice, SimulatedSubscription
from store.models import StripeEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def _join(client: Any, user: Any, tier: str = "member", interval: str = "month") -> Any:
    client.force_login(user)
    response = client.post("/account/membership/subscribe/", {"tier": tier, "interval": interval})
    assert response.status_code == 302 and "/checkout/simulated/" in response.url
    return client.post(response.url, {"action": "pay"})


def test_the_pricing_page_lists_every_offered_tier_with_its_prices_and_perks(
    client, member_tier, pro_tier
):
    body = client.get("/pricing/").content.decode()
    for text in ["Free", "Member", "£15", "£150", "7-day free trial", "20% off", "Pro", "£40"]:
        assert text in body
    assert 'action="/account/membership/subscribe/"' in body


def test_a_member_joins_with_a_trial_and_manages_the_plan_from_their_page(
    client, member_tier, pro_tier
):
    user = make_user("member@example.com")
    response = _join(client, user)
    assert response.status_code == 302 and response.url.startswith("/account/membership/")
    membership = Membership.objects.get(user=user)
    assert membership.status == "trialing" and membership.tier == member_tier
    page = client.get("/account/membership/").content.decode()
    assert "Free trial" in page and "Cancel membership" in page and "Switch to Pro" in page

    client.post("/account/membership/cancel/")
    membership.refresh_from_db()
    assert membership.cancel_at_period_end
    assert "Resume membership" in client.get("/account/membership/").content.decode()
    client.post("/account/membership/resume/")
    membership.refresh_from_db()
    assert not membership.cancel_at_period_end

    client.post("/account/membership/change/", {"tier": "pro", "interval": "month"})
    membership.refresh_from_db()
    assert membership.tier == pro_tier
    assert OutboundEmail.objects.filter(template="members-cancellation").count() == 1


def test_the_clock_command_renews_fails_and_ends_memberships_through_webhook_events(
    client, member_tier
):
    user = make_user("member@example.com")
    _join(client, user, interval="month")
    call_command("billing_clock", days=8)  # the trial ends: first payment
    membership = Membership.objects.get(user=user)
    assert membership.status == "active"
    assert MembershipInvoice.objects.filter(status="paid", amount_paid=1500).count() == 1

    client.post("/account/membership/card/simulated/", {"card": "declines"})
    call_command("billing_clock", days=31)
    membership.refresh_from_db()
    assert membership.status == "past_due"
    failed = OutboundEmail.objects.get(template="members-payment-failed")
    assert "/account/membership/card/" in failed.body_text
    page = client.get("/account/membership/").content.decode()
    assert "Your last payment was declined" in page

    client.post("/account/membership/card/simulated/", {"card": "pays"})
    membership.refresh_from_db()
    assert membership.status == "active"

    client.post("/account/membership/cancel/")
    call_command("billing_clock", days=31)
    membership.refresh_from_db()
    assert membership.status == "canceled"
    assert not StripeEvent.objects.filter(processed_at=None).exists()
    invoices = client.get("/account/membership/").content.decode()
    assert invoices.count("£15.00") >= 2


def test_a_bad_plan_or_a_second_subscription_is_refused_with_a_message_not_an_error(
    client, member_tier
):
    user = make_user("member@example.com")
    client.force_login(user)
    for data in [{"tier": "nope", "interval": "month"}, {"tier": "free", "interval": "month"},
                 {"tier": "member", "interval": "week"}, {}]:  # fmt: skip
        response = client.post("/account/membership/subscribe/", data, follow=True)
        assert response.status_code == 200
        assert "Choose" in response.content.decode() or "not sold" in response.content.decode()
    _join(client, user)
    response = client.post(
        "/account/membership/subscribe/", {"tier": "member", "interval": "year"}, follow=True
    )
    assert "already a member" in response.content.decode()
    assert SimulatedSubscription.objects.count() == 1
    # Nor while the payment is overdue and the grace period is over.
    Membership.objects.filter(user=user).update(status="unpaid")
    response = client.post(
        "/account/membership/subscribe/", {"tier": "member", "interval": "year"}, follow=True
    )
    assert "last payment failed" in response.content.decode()
    assert SimulatedSubscription.objects.count() == 1


def test_someone_else_s_simulated_checkout_page_is_not_found(client, member_tier):
    owner = make_user("owner@example.com")
    client.force_login(owner)
    url = client.post("/account/membership/subscribe/", {"tier": "member", "interval": "month"}).url
    client.force_login(make_user("other@example.com"))
    assert client.post(url, {"action": "pay"}).status_code == 404
    assert not SimulatedSubscription.objects.exists()


def test_membership_pages_ask_a_stranger_to_sign_in(client):
    for path in ["/account/membership/", "/account/membership/card/"]:
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response.url
