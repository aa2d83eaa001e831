"""Writing the timeline: one event per source row and kind, from receivers or in bulk.

Each `*_event(obj)` function turns one source row into the fields of an event
(or None); receivers write one with `record`, the backfill writes thousands
with `bulk_create(ignore_conflicts=True)`. Both use the same functions, so a
backfilled timeline reads exactly like a live one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Max
from django.urls import NoReverseMatch, reverse

from bookings.models import Booking
from clients.models import Contact, TimelineEvent
from coaching import times

log = logging.getLogger(__name__)
Kind = TimelineEvent.Kind


@dataclass
class Event:
    kind: str
    occurred_at: datetime
    title: str
    source_type: str
    source_id: int
    detail: str = ""
    link: str = ""

    def row(self, contact_id: int) -> TimelineEvent:
        return TimelineEvent(
            contact_id=contact_id,
            kind=self.kind,
            occurred_at=self.occurred_at,
            title=self.title[:200],
            detail=self.detail[:300],
            link=self.link[:300],
            source_type=self.source_type,
            source_id=self.source_id,
        )


def admin_link(obj: Any) -> str:
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def label(obj: Any) -> str:
    return str(obj._meta.label_lower)


def record(contact: Contact | int, event: Event | None) -> TimelineEvent | None:
    """Write (or update) one event; the contact's last activity follows it.

    One upsert on the `(source_type, source_id, kind)` constraint, not
    `update_or_create`: that is a savepoint, a locking read and a write, and a
    paid order records its events from several saves.
    """
    if event is None:
        return None
    contact_id = contact if isinstance(contact, int) else contact.pk
    (row,) = TimelineEvent.objects.bulk_create(
        [event.row(contact_id)],
        update_conflicts=True,
        unique_fields=["source_type", "source_id", "kind"],
        update_fields=["contact", "occurred_at", "title", "detail", "link"],
    )
    Contact.objects.filter(pk=contact_id, last_activity_at__lt=event.occurred_at).update(
        last_activity_at=event.occurred_at
    )
    return row


# --- One source row -> one event ------------------------------------------------------


def guide_view_event(view: Any) -> Event:
    guide = view.guide
    return Event(
        Kind.GUIDE_VIEW,
        view.viewed_at,
        f"Read “{guide.title}”",
        label(view),
        view.pk,
        link=guide.get_absolute_url(),
    )


def comment_event(comment: Any) -> Event:
    # Linked to the admin, not the page: the coach sees held and hidden ones there too.
    return Event(
        Kind.COMMENT,
        comment.created_at,
        f"Commented on “{comment.guide.title}”",
        label(comment),
        comment.pk,
        detail=comment.body,
        link=admin_link(comment),
    )


def order_events(order: Any) -> list[Event]:
    events = []
    if order.paid_at:
        titles = ", ".join(item.title for item in order.items.all())
        events.append(
            Event(
                Kind.PURCHASE,
                order.paid_at,
                f"Bought {titles or order.number}",
                label(order),
                order.pk,
                detail=order.total_display,
                link=admin_link(order),
            )
        )
    if order.amount_refunded:
        events.append(
            Event(
                Kind.REFUND,
                order.paid_at or order.created_at,
                f"Refunded {order.refunded_display} of order {order.number}",
                label(order),
                order.pk,
                link=admin_link(order),
            )
        )
    return events


def coach_zone() -> str:
    """The coach reads the timeline: times on it are in the coach's zone."""
    from bookings.availability import coach_zone_name

    return coach_zone_name()


def booking_events(booking: Any, zone_name: str | None = None) -> list[Event]:
    name = booking.event_type.name
    zone_name = zone_name or coach_zone()
    events = []
    happened = {Booking.Status.CONFIRMED, *Booking.SETTLED_OUTCOMES}
    if booking.confirmed_at or booking.status in happened:
        events.append(
            Event(
                Kind.BOOKING,
                booking.confirmed_at or booking.created_at,
                f"Booked {name} for {times.short_datetime(booking.start, zone_name)}",
                label(booking),
                booking.pk,
                link=admin_link(booking),
            )
        )
    if booking.status in Booking.SETTLED_OUTCOMES:
        events.append(
            Event(
                Kind.BOOKING_OUTCOME,
                booking.start,
                f"{name}: {booking.get_status_display().lower()}",
                label(booking),
                booking.pk,
                link=admin_link(booking),
            )
        )
    if booking.status == Booking.Status.CANCELLED:
        events.append(
            Event(
                Kind.BOOKING_CANCELLED,
                booking.cancelled_at or booking.updated_at,
                f"Cancelled {name} of {times.short_datetime(booking.start, zone_name)}",
                label(booking),
                booking.pk,
                link=admin_link(booking),
            )
        )
    return events


def seat_events(seat: Any, zone_name: str | None = None) -> list[Event]:
    """A workshop seat, on the same lines as a call: booked, the register, cancelled."""
    session = seat.session
    name = session.event_type.name
    when = times.short_datetime(session.start, zone_name or coach_zone())
    events = []
    if seat.confirmed_at:
        events.append(
            Event(Kind.BOOKING, seat.confirmed_at, f"Seat in {name} on {when}", label(seat),
                  seat.pk, link=admin_link(seat))
        )  # fmt: skip
    if seat.status in {"attended", "no_show"}:
        events.append(
            Event(Kind.BOOKING_OUTCOME, session.start,
                  f"{name}: {seat.get_status_display().lower()}", label(seat), seat.pk,
                  link=admin_link(seat))
        )  # fmt: skip
    if seat.status in {"cancelled", "late_cancel"}:
        events.append(
            Event(Kind.BOOKING_CANCELLED, seat.cancelled_at or seat.updated_at,
                  f"Cancelled the seat in {name} on {when}", label(seat), seat.pk,
                  link=admin_link(seat))
        )  # fmt: skip
    return events


def booking_moved_event(
    booking: Any, old_start: datetime, occurred_at: datetime, zone_name: str | None = None
) -> Event:
    """One event per move: the source carries the move's number, since a booking may
    move twice and each move is its own line on the timeline."""
    zone_name = zone_name or coach_zone()
    return Event(
        Kind.BOOKING_MOVED,
        occurred_at,
        f"Booking moved: {booking.event_type.name}",
        f"{label(booking)}:move{booking.reschedule_count}",
        booking.pk,
        detail=f"{times.short_datetime(old_start, zone_name)} → "
        f"{times.short_datetime(booking.start, zone_name)}",
        link=admin_link(booking),
    )


def subscriber_event(subscriber: Any) -> Event | None:
    if not subscriber.confirmed_at:
        return None
    return Event(
        Kind.SUBSCRIBED,
        subscriber.confirmed_at,
        "Subscribed to the newsletter",
        label(subscriber),
        subscriber.pk,
        detail=subscriber.consent_source,
    )


def delivery_event(delivery: Any, subject: str) -> Event | None:
    if not delivery.sent_at:
        return None
    return Event(
        Kind.NEWSLETTER,
        delivery.sent_at,
        f"Sent “{subject}”",
        label(delivery),
        delivery.pk,
        detail="opened" if delivery.opened_at else "",
    )


def click_event(click: Any, subject: str, url: str) -> Event:
    return Event(
        Kind.CLICK,
        click.clicked_at,
        f"Clicked a link in “{subject}”",
        label(click),
        click.pk,
        detail=url,
        link=url,
    )


def note_event(note: Any) -> Event:
    shared = "Shared note" if note.is_shared else "Private note"
    return Event(Kind.NOTE, note.created_at, shared, label(note), note.pk, detail=note.body)


def stage_event(change: Any, names: dict[int, str]) -> Event:
    to = names.get(change.to_stage_id, "?")
    title = f"Moved to {to}"
    if change.from_stage_id:
        title = f"Moved from {names.get(change.from_stage_id, '?')} to {to}"
    who = "automatically" if change.automatic else "by the coach"
    detail = f"{who}: {change.reason}" if change.reason else who
    return Event(Kind.STAGE, change.at, title, label(change), change.pk, detail=detail)


def outcome_event(outcome: Any) -> Event:
    bits = [outcome.role, outcome.company, outcome.level, outcome.compensation_band]
    return Event(
        Kind.OUTCOME,
        outcome.created_at,
        f"{outcome.get_kind_display()}: {' · '.join(b for b in bits[:2] if b) or 'recorded'}",
        label(outcome),
        outcome.pk,
        detail=" · ".join(b for b in bits[2:] if b),
    )


def task_event(task: Any) -> Event:
    return Event(
        Kind.TASK,
        task.created_at,
        f"Task: {task.title}",
        label(task),
        task.pk,
        detail=f"due {task.due_on:%d %b %Y}",
    )


def engagement_event(engagement: Any) -> Event:
    return Event(
        Kind.ENGAGEMENT,
        engagement.started_at,
        f"Started {engagement.title}",
        label(engagement),
        engagement.pk,
        detail=f"{engagement.credits_total} credits",
    )


def credit_event(adjustment: Any) -> Event:
    return Event(
        Kind.CREDIT,
        adjustment.created_at,
        f"Credit {adjustment.get_kind_display().lower()} ({adjustment.change:+d})",
        label(adjustment),
        adjustment.pk,
        detail=adjustment.reason,
    )


# --- Bulk: the backfill and the newsletter sweep -------------------------------------


def _write(rows: Iterable[TimelineEvent], batch: int = 2000) -> int:
    written = 0
    chunk: list[TimelineEvent] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            written += len(TimelineEvent.objects.bulk_create(chunk, ignore_conflicts=True))
            chunk = []
    if chunk:
        written += len(TimelineEvent.objects.bulk_create(chunk, ignore_conflicts=True))
    return written


class ContactIndex:
    """Email and user id -> contact id, loaded once for a bulk pass."""

    def __init__(self) -> None:
        self.by_email: dict[str, int] = {}
        self.by_user: dict[int, int] = {}
        for pk, email, user_id in Contact.objects.values_list("pk", "email", "user_id"):
            self.by_email[email] = pk
            if user_id:
                self.by_user[user_id] = pk

    def find(self, *, email: str = "", user_id: int | None = None) -> int | None:
        if user_id and user_id in self.by_user:
            return self.by_user[user_id]
        return self.by_email.get((email or "").lower())


def newsletter_rows(index: ContactIndex, since: datetime | None = None) -> Iterator[TimelineEvent]:
    try:
        from newsletter.models import Click, Delivery
    except ImportError:  # pragma: no cover - the app is part of the project
        return
    deliveries = Delivery.objects.filter(sent_at__isnull=False).select_related(
        "campaign", "subscriber"
    )
    clicks = Click.objects.select_related("delivery__campaign", "delivery__subscriber", "link")
    if since is not None:
        deliveries = deliveries.filter(sent_at__gt=since)
        clicks = clicks.filter(clicked_at__gt=since)
    for delivery in deliveries.iterator(chunk_size=2000):
        contact_id = index.find(email=delivery.subscriber.email_lower)
        event = delivery_event(delivery, delivery.campaign.subject)
        if contact_id and event:
            yield event.row(contact_id)
    for click in clicks.iterator(chunk_size=2000):
        contact_id = index.find(email=click.delivery.subscriber.email_lower)
        if contact_id:
            yield click_event(click, click.delivery.campaign.subject, click.link.url).row(
                contact_id
            )


def sync_newsletter(*, full: bool = False) -> int:
    """Deliveries are written in bulk by the newsletter (no signals): sweep them in."""
    since = None
    if not full:
        since = TimelineEvent.objects.filter(kind=Kind.NEWSLETTER).aggregate(m=Max("occurred_at"))[
            "m"
        ]
    before = TimelineEvent.objects.count()
    _write(newsletter_rows(ContactIndex(), since))
    return TimelineEvent.objects.count() - before


def backfill(*, link_contacts: bool = True) -> dict[str, int]:
    """Make contacts for everyone the other apps know, then write every past event."""
    from clients import receivers

    counts: dict[str, int] = {}
    if link_contacts:
        counts["contacts"] = receivers.link_existing_people()
    before = TimelineEvent.objects.count()
    _write(_all_rows(ContactIndex()))
    counts["events"] = TimelineEvent.objects.count() - before
    return counts


def _all_rows(index: ContactIndex) -> Iterator[TimelineEvent]:
    from clients.models import CreditAdjustment, Engagement, Note, Outcome, StageChange, Task
    from clients.models import Stage as StageModel
    from comments.models import Comment
    from guides.models import GuideView
    from newsletter.models import Subscriber
    from store.models import Order

    for view in (
        GuideView.objects.filter(user__isnull=False)
        .select_related("guide")
        .iterator(chunk_size=2000)
    ):
        contact_id = index.find(user_id=view.user_id)
        if contact_id:
            yield guide_view_event(view).row(contact_id)
    for comment in (
        Comment.objects.filter(by_coach=False).select_related("guide").iterator(chunk_size=2000)
    ):
        contact_id = index.find(user_id=comment.author_id)
        if contact_id:
            yield comment_event(comment).row(contact_id)
    for order in Order.objects.filter(paid_at__isnull=False).prefetch_related("items"):
        contact_id = index.find(email=order.email, user_id=order.user_id)
        if contact_id:
            yield from (event.row(contact_id) for event in order_events(order))
    zone_name = coach_zone()
    for booking in Booking.objects.exclude(email="").select_related("event_type"):
        contact_id = index.find(email=booking.email, user_id=booking.user_id)
        if contact_id:
            yield from (event.row(contact_id) for event in booking_events(booking, zone_name))
    for subscriber in Subscriber.objects.filter(confirmed_at__isnull=False):
        contact_id = index.find(email=subscriber.email_lower, user_id=subscriber.user_id)
        event = subscriber_event(subscriber)
        if contact_id and event:
            yield event.row(contact_id)
    yield from newsletter_rows(index)
    names = dict(StageModel.objects.values_list("pk", "name"))
    for change in StageChange.objects.iterator(chunk_size=2000):
        yield stage_event(change, names).row(change.contact_id)
    for note in Note.objects.iterator(chunk_size=2000):
        yield note_event(note).row(note.contact_id)
    for task in Task.objects.iterator(chunk_size=2000):
        yield task_event(task).row(task.contact_id)
    for outcome in Outcome.objects.iterator(chunk_size=2000):
        yield outcome_event(outcome).row(outcome.contact_id)
    for engagement in Engagement.objects.iterator(chunk_size=2000):
        yield engagement_event(engagement).row(engagement.contact_id)
    for adjustment in CreditAdjustment.objects.select_related("engagement"):
        yield credit_event(adjustment).row(adjustment.engagement.contact_id)
