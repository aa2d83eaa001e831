"""Rules, and the seven kinds of trigger made the way the site makes them."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.utils import timezone

from automations.models import Rule
from clients.models import Contact, Engagement, Outcome
from newsletter.models import Subscriber
from tests.clients.factories import book

_n = itertools.count(1)


def make_rule(trigger: str, **fields: Any) -> Rule:
    fields.setdefault("name", f"Rule {next(_n)}")
    fields.setdefault("action", Rule.Action.TASK)
    fields.setdefault("task_title", f"Follow up: {trigger}")
    fields.setdefault("active_since", timezone.now() - dt.timedelta(days=400))
    return Rule.objects.create(trigger=trigger, **fields)


def engagement_of(user: Any) -> Engagement:
    return Engagement.objects.get(contact__user=user)


def use_credits(engagement: Engagement, count: int) -> None:
    for n in range(count):
        assert engagement.use_credit(reason=f"session {n + 1}")


def past_discovery_call(coach: Any, email: str, *, days_ago: int, hour: int = 10) -> Any:
    booking = book(coach, email=email, hour=hour)
    moved = dt.timedelta(days=days_ago + 7)
    type(booking).objects.filter(pk=booking.pk).update(
        start=booking.start - moved, end=booking.end - moved
    )
    booking.refresh_from_db()
    return booking


def inactive_subscriber(email: str, *, days: int) -> Subscriber:
    now = timezone.now()
    subscriber = Subscriber.objects.create(
        email=email, status=Subscriber.Status.CONFIRMED, confirmed_at=now, consent_at=now
    )
    Subscriber.objects.filter(pk=subscriber.pk).update(
        last_engaged_at=now - dt.timedelta(days=days)
    )
    subscriber.refresh_from_db()
    return subscriber


def record_offer(contact: Contact) -> Outcome:
    return Outcome.objects.create(contact=contact, kind=Outcome.Kind.OFFER, company="Acme")
