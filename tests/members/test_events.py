"""Stripe Billing's events in any order, any number of times, end in the same membership."""

from __future__ import annotations

import datetime as dt
import json
import random
from typing import Any

import pytest

from coaching.models import OutboundEmail
from members import clock, services, simulator
from members.models import Membership, MembershipInvoice, SimulatedSubscription
from store import stripe_gateway, webhooks
from store.models import StripeEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _deliver(event: dict[str, Any]) -> None:
    payload = json.dumps(event)
    status, _body = webhooks.receive(payload.encode(), stripe_gateway.sign(payload))
    assert status == 200


def _process_pending() -> None:
    """The store's sweep: every recorded event not yet handled, until none is left to try."""
    for _round in range(3):
        for pk in (
            StripeEvent.objects.filter(processed_at=None)
            .order_by("pk")
            .values_list("pk", flat=True)
        ):
            webhooks.process(pk)


def _final_state(user: Any) -> dict[str, Any]:
    membership = Membership.objects.get(user=user)
    return {
        "subscription": membership.stripe_subscription_id,
        "tier": membership.tier.slug,
        "interval": membership.interval,
        "status": membership.status,
        "period": (membership.current_period_start, membership.current_period_end),
        "cancel_at_period_end": membership.cancel_at_period_end,
        "access": services.has_access(membership),
        "invoices": sorted(MembershipInvoice.objects.values_list("stripe_invoice_id", "status")),
    }


def _scenario(user: Any, tier: Any, pro_tier: Any, on_step: Any = None) -> list[tuple[str, int]]:
    """Trial, renewal, a failed renewal, the card fixed, an upgrade, cancel, end.

    Returns (step, number of events so far) after each step.
    """
    marks = []

    def mark(step: str) -> None:
        _process_pending()
        marks.append((step, StripeEvent.objects.count()))
        if on_step is not None:
            on_step(step)

    simulator.complete_checkout(
        simulator.checkout_token(user=user, tier=tier, interval="month", trial_days=7)
    )
    mark("trialing")
    simulator.advance(dt.timedelta(days=8))
    mark("renewed after trial")
    simulator.set_card(user, declines=True)
    simulator.advance(dt.timedelta(days=31))
    mark("past due")
    simulator.set_card(user, declines=False)
    mark("card fixed")
    sub = SimulatedSubscription.objects.get(user=user)
    simulator.change_plan(sub.stripe_id, tier=pro_tier, interval="month")
    mark("upgraded")
    simulator.set_cancel_at_period_end(sub.stripe_id, True)
    mark("ending")
    simulator.advance(dt.timedelta(days=31))
    mark("ended")
    return marks


def test_every_prefix_of_a_membership_s_events_shuffled_and_repeated_ends_in_the_same_state(
    member_tier, pro_tier
):
    user = make_user("member@example.com")
    marks = _scenario(user, member_tier, pro_tier)
    events = [row.payload for row in StripeEvent.objects.order_by("pk")]
    assert {e["type"] for e in events} >= {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "customer.subscription.trial_will_end",
        "invoice.paid",
        "invoice.payment_failed",
    }
    rng = random.Random(20)
    for step, count in marks:
        prefix = events[:count]
        # The state in order, replayed from nothing, with the clock where it was at the end.
        Membership.objects.all().delete()
        MembershipInvoice.objects.all().delete()
        StripeEvent.objects.all().delete()
        for event in prefix:
            _deliver(event)
        _process_pending()
        expected = _final_state(user)
        for _trial in range(4):
            Membership.objects.all().delete()
            MembershipInvoice.objects.all().delete()
            StripeEvent.objects.all().delete()
            # Each event twice: once re-sent under its own id (recorded once), once as
            # Stripe's retry might come under a new id; all in a random order.
            deliveries = (
                prefix
                + prefix
                + [{**e, "id": f"{e['id']}_again"} for e in rng.sample(prefix, len(prefix) // 2)]
            )
            rng.shuffle(deliveries)
            for event in deliveries:
                _deliver(event)
            _process_pending()
            assert _final_state(user) == expected, (step, [e["type"] for e in deliveries])
    # And that end is the right one: canceled, no access, the last invoice paid.
    assert expected["status"] == "canceled" and not expected["access"]
    assert expected["tier"] == "pro"


def test_the_in_order_walk_gives_access_exactly_while_the_membership_is_good(member_tier, pro_tier):
    user = make_user("member@example.com")
    access = []

    def check(step: str) -> None:
        membership = Membership.objects.get(user=user)
        access.append((membership.status, services.has_access(membership)))

    _scenario(user, member_tier, pro_tier, on_step=check)
    assert access == [
        ("trialing", True),
        ("active", True),
        ("past_due", True),  # within the grace period (7 days by default)
        ("active", True),
        ("active", True),
        ("active", True),  # canceled at period end: access until then
        ("canceled", False),
    ]


def test_each_email_is_sent_once_however_often_its_event_comes(member_tier, pro_tier):
    user = make_user("member@example.com")
    _scenario(user, member_tier, pro_tier)
    for row in StripeEvent.objects.all():
        _deliver({**row.payload, "id": row.event_id + "_retry"})
    _process_pending()
    templates = sorted(OutboundEmail.objects.values_list("template", flat=True))
    assert templates == [
        "members-cancellation",  # ending
        "members-cancellation",  # ended
        "members-payment-failed",
        "members-renewal",  # after the trial
        "members-renewal",  # the failed renewal, paid once the card was fixed
        "members-trial-ending",
    ]
    failed = OutboundEmail.objects.get(template="members-payment-failed")
    assert "/account/membership/card/" in failed.body_text


def test_an_older_subscription_s_late_event_never_replaces_a_newer_subscription(member_tier):
    user = make_user("member@example.com")
    simulator.complete_checkout(
        simulator.checkout_token(user=user, tier=member_tier, interval="month", trial_days=0)
    )
    _process_pending()
    first = SimulatedSubscription.objects.get(user=user)
    stale = StripeEvent.objects.filter(type="customer.subscription.created").get().payload
    simulator.set_cancel_at_period_end(first.stripe_id, True)
    simulator.advance(dt.timedelta(days=32))
    simulator.complete_checkout(
        simulator.checkout_token(user=user, tier=member_tier, interval="year", trial_days=0)
    )
    _process_pending()
    _deliver({**stale, "id": "evt_late_delivery"})
    _process_pending()
    membership = Membership.objects.get(user=user)
    assert membership.interval == "year" and membership.status == "active"
    assert membership.stripe_subscription_id != first.stripe_id


def test_a_live_subscription_is_matched_to_its_tier_by_price_in_either_api_shape(
    member_tier, pro_tier
):
    """Stripe's live objects: the tier from the Price id; the period on the subscription
    (before API 2025-03-31) or on its item (since)."""
    pro_tier.stripe_yearly_price_id = "price_pro_yearly"
    pro_tier.save()
    user = make_user("member@example.com")
    start = int(clock.now().timestamp())
    subscription = {
        "id": "sub_live_1",
        "object": "subscription",
        "customer": "cus_live_1",
        "status": "active",
        "created": start,
        "cancel_at_period_end": False,
        "metadata": {"user_id": str(user.pk)},
        "current_period_start": start,
        "current_period_end": start + 365 * 86400,
        "items": {"data": [{"id": "si_1", "price": {"id": "price_pro_yearly"}}]},
    }
    services.apply_subscription(subscription=subscription, event_created=start)
    membership = Membership.objects.get(user=user)
    assert (membership.tier, membership.interval) == (pro_tier, "year")
    assert membership.current_period_end is not None
    assert int(membership.current_period_end.timestamp()) == start + 365 * 86400
    assert services.has_access(membership)

    # A payment failure and its recovery in the same period, delivered backwards.
    later = {**subscription, "status": "active"}
    earlier = {**subscription, "status": "past_due"}
    services.apply_subscription(subscription=later, event_created=start + 20)
    services.apply_subscription(subscription=earlier, event_created=start + 10)
    membership.refresh_from_db()
    assert membership.status == "active"
