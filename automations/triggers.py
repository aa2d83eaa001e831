"""What fires a rule: one query per trigger, used by the signals, beat's scan and the dry run.

`found(rule, now, source_id=...)` answers "who has this trigger, from which row,
since when". A signal asks it about the one row that just changed (so a
follow-up starts at once), beat asks it about everything (a safety net for a
signal whose receiver failed, and the only source for time-based triggers),
the dry run shows its answer, and a run re-asks it about its own row when it
is due: a refunded purchase, a discovery call followed by a purchase, or a
subscriber who clicked again no longer holds, and the run is skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from automations.models import Rule
from bookings.models import Booking, EventType
from clients.models import Contact, Engagement, Outcome
from newsletter.models import Subscriber
from store.models import Order

Trigger = Rule.Trigger


@dataclass(frozen=True)
class Found:
    contact_id: int
    key: str
    source_id: int
    occurred_at: dt.datetime
    zone: str = ""


def _only(qs: QuerySet, source_id: int | None) -> QuerySet:
    return qs if source_id is None else qs.filter(pk=source_id)


def _by_email(rows: Iterable[tuple[int, str, dt.datetime, str]], key: str) -> Iterator[Found]:
    """(source id, email, moment, suffix) rows to contacts, matched by lower-cased address."""
    rows = list(rows)
    contacts = dict(
        Contact.objects.filter(email__in={email.lower() for _, email, _, _ in rows}).values_list(
            "email", "pk"
        )
    )
    zones = dict(Contact.objects.filter(pk__in=contacts.values()).values_list("pk", "time_zone"))
    for source_id, email, occurred_at, suffix in rows:
        contact_id = contacts.get(email.lower())
        if contact_id is not None:
            yield Found(
                contact_id, f"{key}:{source_id}{suffix}", source_id, occurred_at, zones[contact_id]
            )


def _purchases(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None
) -> Iterator[Found]:
    orders = _only(Order.objects.filter(paid_at__gte=since, paid_at__lte=now), source_id)
    orders = orders.exclude(status__in=[Order.Status.REFUNDED, Order.Status.HELD])
    if rule.product_id:
        orders = orders.filter(items__product_id=rule.product_id)
    rows = orders.distinct().values_list("pk", "email", "paid_at")
    return _by_email(((pk, email, at, "") for pk, email, at in rows), "order")


def _engagements(rule: Rule, source_id: int | None) -> QuerySet[Any]:
    engagements = _only(Engagement.objects.filter(credits_total__gt=0), source_id)
    if rule.product_id:
        engagements = engagements.filter(credit_grant__product_id=rule.product_id)
    # The moment the package reached its mark: its latest credit change.
    return engagements.annotate(changed_at=Max("adjustments__created_at"))


def _package_mark(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None, reached: Q, suffix: str
) -> Iterator[Found]:
    rows = (
        _engagements(rule, source_id)
        .filter(reached, changed_at__gte=since, changed_at__lte=now)
        .values_list("pk", "contact_id", "changed_at", "contact__time_zone")
    )
    for pk, contact_id, at, zone in rows:
        yield Found(contact_id, f"engagement:{pk}:{suffix}", pk, at, zone)


def _package_75(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None
) -> Iterator[Found]:
    # used / total >= 3/4, in integers.
    return _package_mark(
        rule, now, since, source_id, Q(credits_used__gte=(F("credits_total") * 3 + 3) / 4), "75"
    )


def _package_finished(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None
) -> Iterator[Found]:
    done = Q(status=Engagement.Status.COMPLETED) | Q(
        credits_used__gte=F("credits_total") - F("credits_expired")
    )
    return _package_mark(rule, now, since, source_id, done, "finished")


def _no_shows(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None
) -> Iterator[Found]:
    rows = _only(
        Booking.objects.filter(
            status=Booking.Status.NO_SHOW, updated_at__gte=since, updated_at__lte=now
        ),
        source_id,
    ).values_list("pk", "email", "updated_at")
    return _by_email(((pk, email, at, ":no_show") for pk, email, at in rows), "booking")


def _discovery_no_purchase(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None
) -> Iterator[Found]:
    wait = dt.timedelta(days=rule.days)
    bought_since = Order.objects.annotate(address=Lower("email")).filter(
        address=Lower(OuterRef("email")),
        paid_at__gte=OuterRef("start"),
        paid_at__isnull=False,
    )
    calls = _only(
        Booking.objects.filter(
            event_type__kind=EventType.Kind.DISCOVERY,
            status__in=[Booking.Status.CONFIRMED, Booking.Status.COMPLETED],
            end__lte=now - wait,
            end__gte=since - wait,
        ),
        source_id,
    ).exclude(email="")
    rows = calls.filter(~Exists(bought_since)).values_list("pk", "email", "end")
    return _by_email(
        ((pk, email, end + wait, ":no_purchase") for pk, email, end in rows), "booking"
    )


def _inactive(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None
) -> Iterator[Found]:
    wait = dt.timedelta(days=rule.days)
    rows = (
        _only(Subscriber.objects.confirmed(), source_id)
        .filter(last_engaged_at__lte=now - wait, last_engaged_at__gte=since - wait)
        .values_list("pk", "email_lower", "last_engaged_at")
    )
    # Keyed by the last engagement: someone who wakes up and falls silent again is a
    # new trigger, the same silence is not.
    return _by_email(
        ((pk, email, last + wait, f":{last:%Y%m%d%H%M%S}") for pk, email, last in rows),
        "subscriber",
    )


def _offers(
    rule: Rule, now: dt.datetime, since: dt.datetime, source_id: int | None
) -> Iterator[Found]:
    rows = _only(
        Outcome.objects.filter(kind=Outcome.Kind.OFFER, created_at__gte=since, created_at__lte=now),
        source_id,
    ).values_list("pk", "contact_id", "created_at", "contact__time_zone")
    for pk, contact_id, at, zone in rows:
        yield Found(contact_id, f"outcome:{pk}", pk, at, zone)


FINDERS: dict[str, Callable[[Rule, dt.datetime, dt.datetime, int | None], Iterator[Found]]] = {
    Trigger.PURCHASE: _purchases,
    Trigger.PACKAGE_75: _package_75,
    Trigger.PACKAGE_FINISHED: _package_finished,
    Trigger.NO_SHOW: _no_shows,
    Trigger.DISCOVERY_NO_PURCHASE: _discovery_no_purchase,
    Trigger.INACTIVE: _inactive,
    Trigger.OFFER: _offers,
}

# Which source a signal's row is, for each trigger it can fire.
SOURCES: dict[str, tuple[str, ...]] = {
    "store.order": (Trigger.PURCHASE,),
    "clients.engagement": (Trigger.PACKAGE_75, Trigger.PACKAGE_FINISHED),
    "bookings.booking": (Trigger.NO_SHOW, Trigger.DISCOVERY_NO_PURCHASE),
    "newsletter.subscriber": (Trigger.INACTIVE,),
    "clients.outcome": (Trigger.OFFER,),
}


def found(
    rule: Rule,
    now: dt.datetime,
    *,
    source_id: int | None = None,
    since: dt.datetime | None = None,
) -> list[Found]:
    """Triggers from `since` (never before the rule's `active_since`) up to `now`."""
    start = max(rule.active_since, since) if since is not None else rule.active_since
    return list(FINDERS[rule.trigger](rule, now, start, source_id))


def still_holds(rule: Rule, *, contact_id: int, key: str, source_id: int, now: dt.datetime) -> bool:
    return any(
        item.contact_id == contact_id and item.key == key
        for item in found(rule, now, source_id=source_id)
    )
