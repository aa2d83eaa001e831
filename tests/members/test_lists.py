"""A tier's newsletter lists follow the membership, and campaigns can target members."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from coaching.models import OutboundEmail
from members import simulator
from newsletter.models import MailingList, Subscriber, Subscription
from newsletter.segments import apply_segment
from store import stripe_gateway, webhooks
from store.models import StripeEvent
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _run_events() -> None:
    for pk in (
        StripeEvent.objects.filter(processed_at=None).order_by("pk").values_list("pk", flat=True)
    ):
        webhooks.process(pk)


def _join(user: Any, tier: Any) -> None:
    simulator.complete_checkout(
        simulator.checkout_token(user=user, tier=tier, interval="month", trial_days=0)
    )
    _run_events()


def test_a_confirmed_subscriber_joins_the_tier_s_list_and_leaves_it_when_the_membership_ends(
    member_tier,
):
    letter = MailingList.objects.create(slug="members-letter", name="Members' letter")
    member_tier.newsletter_lists.add(letter)
    user = make_user("member@example.com")
    subscriber = Subscriber.objects.create(
        email="member@example.com",
        user=user,
        status=Subscriber.Status.CONFIRMED,
        confirmed_at=timezone.now(),
        consent_at=timezone.now(),
        consent_text="test",
    )
    _join(user, member_tier)
    row = Subscription.objects.get(subscriber=subscriber, mailing_list=letter)
    assert row.status == Subscription.Status.SUBSCRIBED
    assert list(apply_segment(letter.pk, {"member_tier": "member"})) == [subscriber]

    sub = simulator.SimulatedSubscription.objects.get(user=user)
    simulator.set_cancel_at_period_end(sub.stripe_id, True)
    simulator.advance(dt.timedelta(days=32))
    _run_events()
    row.refresh_from_db()
    assert row.status == Subscription.Status.UNSUBSCRIBED
    assert list(apply_segment(letter.pk, {"member_tier": "any"})) == []


def test_a_new_address_is_asked_to_confirm_before_the_members_letter_reaches_it(member_tier):
    letter = MailingList.objects.create(slug="members-letter", name="Members' letter")
    member_tier.newsletter_lists.add(letter)
    user = make_user("new.member@example.com")
    _join(user, member_tier)
    subscriber = Subscriber.objects.get(email_lower="new.member@example.com")
    assert subscriber.status == Subscriber.Status.PENDING
    assert OutboundEmail.objects.filter(to="new.member@example.com", template="newsletter-confirm")


def test_an_unsigned_subscription_event_is_refused_and_changes_nothing(member_tier):
    payload = json.dumps({"id": "evt_forged", "type": "customer.subscription.created"})
    status, body = webhooks.receive(payload.encode(), "t=1,v1=forged")
    assert status == 400 and body["error"] == "invalid signature"
    assert not StripeEvent.objects.exists()
    assert stripe_gateway.is_simulated()
