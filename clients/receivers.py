"""Signal receivers: other apps save their rows, clients links contacts and writes the timeline.

The other apps never import clients (it sits on top). Each receiver runs in a
savepoint and records a failure (coaching.models.HookFailure, listed in the admin)
instead of raising, so that a fault here can never fail a checkout, a booking or a
subscription; tests set RAISE_ERRORS to see faults.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from bookings.models import Booking, EventType, Seat
from clients import services, timeline
from clients.models import (
    Contact,
    CreditAdjustment,
    Engagement,
    Note,
    Outcome,
    Session,
    Source,
    Stage,
    StageChange,
    Task,
)
from coaching.models import HookFailure
from newsletter.models import Subscriber

log = logging.getLogger(__name__)
RAISE_ERRORS = False
POST_SAVE_ARGUMENTS = frozenset({"signal", "created", "update_fields", "raw", "using"})


def safely(fn: Callable[..., None], watch: frozenset[str] = frozenset()) -> Callable[..., None]:
    """`fn` as a receiver. With `watch`, a save that names its fields and touches
    none of them (an order marked fulfilled) is skipped."""

    # Not functools.wraps: its __wrapped__ makes Django (DEBUG on) read fn's own
    # signature, which takes no **kwargs, and refuse the receiver at start-up.
    def receiver(sender: Any, instance: Any, **kwargs: Any) -> None:
        if kwargs.get("raw"):  # loaddata: rows arrive in any order
            return
        saved = kwargs.get("update_fields")
        if watch and saved is not None and not watch.intersection(saved):
            return
        # What a signal sends beyond post_save's own arguments (booking_moved's old
        # times) reaches `fn` as keywords.
        extra = {k: v for k, v in kwargs.items() if k not in POST_SAVE_ARGUMENTS}
        try:
            with transaction.atomic():
                fn(instance, created=kwargs.get("created", False), **extra)
        except Exception as error:
            if RAISE_ERRORS:
                raise
            log.exception("clients: %s failed for %r", fn.__name__, instance)
            HookFailure.record(f"clients.receivers.{fn.__name__}", instance, error)

    receiver.__name__ = receiver.__qualname__ = fn.__name__
    receiver.__doc__ = fn.__doc__
    return receiver


# --- People and what they do elsewhere ---------------------------------------------------


def on_user(user: Any, *, created: bool) -> None:
    if not created or user.is_staff:
        return
    contact = services.contact_for(
        email=user.email,
        name=user.name,
        time_zone=user.time_zone,
        user=user,
        source=Source.ACCOUNT,
    )
    if contact is not None:
        timeline.record(
            contact,
            timeline.Event(
                timeline.Kind.ACCOUNT,
                user.date_joined,
                "Created an account",
                timeline.label(user),
                user.pk,
            ),
        )


def on_guide_view(view: Any, *, created: bool) -> None:
    if not created or view.user_id is None:
        return
    contact = Contact.objects.for_user(view.user)
    if contact is None:
        contact = services.contact_for(
            email=view.user.email,
            name=view.user.name,
            user=view.user,
            source=Source.GUIDE,
            detail=view.guide.title,
        )
    if contact is not None:
        contact.set_source(Source.GUIDE, view.guide.title)
        timeline.record(contact, timeline.guide_view_event(view))


def on_comment(comment: Any, *, created: bool) -> None:
    if not created or comment.by_coach:
        return
    author = comment.author
    contact = Contact.objects.for_user(author)
    if contact is None:
        contact = services.contact_for(
            email=author.email,
            name=author.name,
            user=author,
            source=Source.GUIDE,
            detail=comment.guide.title,
        )
    if contact is not None:
        timeline.record(contact, timeline.comment_event(comment))


def on_order(order: Any, *, created: bool) -> None:
    if order.paid_at is None:
        return
    first = order.items.first()
    contact = services.contact_for(
        email=order.email,
        user=order.user,
        source=Source.PURCHASE,
        detail=first.title if first else order.number,
        now=order.created_at,
    )
    if contact is None:
        return
    for event in timeline.order_events(order):
        timeline.record(contact, event)


def on_credit_grant(grant: Any, *, created: bool) -> None:
    if created:
        services.open_engagement_for_grant(grant=grant)


def on_booking(booking: Any, *, created: bool) -> None:
    if not booking.email or booking.status in Booking.UNSETTLED:
        return
    event_type = booking.event_type
    contact = services.contact_for(
        email=booking.email,
        name=booking.name,
        time_zone=booking.time_zone,
        user=booking.user,
        source=Source.BOOKING,
        detail=event_type.name,
    )
    if contact is None:
        return
    for event in timeline.booking_events(booking):
        timeline.record(contact, event)
    if booking.status == Booking.Status.CONFIRMED and event_type.kind == EventType.Kind.DISCOVERY:
        services.advance(
            contact=contact, role=Stage.Role.DISCOVERY, reason="Booked a discovery call"
        )
    if event_type.kind != EventType.Kind.PACKAGE:
        return
    session = services.session_for_booking(booking=booking, contact=contact)
    if session is None:
        return
    if booking.status in Booking.SETTLED_OUTCOMES:
        services.record_session_outcome(session=session, outcome=booking.status)
    elif (
        booking.status == Booking.Status.CONFIRMED
        and booking.credit_grant_id
        and not session.used_credit
    ):
        # Charged to the grant when booked: the engagement shows it at once.
        services.record_session_outcome(session=session, outcome=session.outcome)
    elif (
        booking.status == Booking.Status.CANCELLED and session.outcome == Session.Outcome.SCHEDULED
    ):
        services.record_session_outcome(session=session, outcome=Session.Outcome.CANCELLED)


def on_seat(seat: Any, *, created: bool) -> None:
    """A workshop seat makes (or finds) the contact and goes on their timeline."""
    if seat.status in {"held", "pending_payment", "expired"}:
        return
    contact = services.contact_for(
        email=seat.email,
        name=seat.name,
        time_zone=seat.time_zone,
        user=seat.user,
        source=Source.BOOKING,
        detail=seat.session.event_type.name,
    )
    if contact is None:
        return
    for event in timeline.seat_events(seat):
        timeline.record(contact, event)


def on_booking_moved(booking: Any, *, created: bool, old_start: Any, old_end: Any) -> None:
    contact = Contact.objects.for_email(booking.email) if booking.email else None
    if contact is not None:
        timeline.record(
            contact, timeline.booking_moved_event(booking, old_start, booking.updated_at)
        )


def on_subscriber(subscriber: Any, *, created: bool) -> None:
    if subscriber.status != Subscriber.Status.CONFIRMED or subscriber.confirmed_at is None:
        return
    contact = services.contact_for(
        email=subscriber.email,
        name=subscriber.name,
        time_zone=subscriber.time_zone,
        user=subscriber.user,
        source=Source.NEWSLETTER,
        detail=subscriber.consent_source,
    )
    if contact is not None:
        timeline.record(contact, timeline.subscriber_event(subscriber))


def on_click(click: Any, *, created: bool) -> None:
    if not created:
        return
    delivery = click.delivery
    contact = Contact.objects.for_email(delivery.subscriber.email_lower)
    if contact is not None:
        timeline.record(
            contact, timeline.click_event(click, delivery.campaign.subject, click.link.url)
        )


# --- Our own rows -------------------------------------------------------------------------


def on_note(note: Any, *, created: bool) -> None:
    timeline.record(note.contact_id, timeline.note_event(note))


def on_stage_change(change: Any, *, created: bool) -> None:
    names = dict(
        Stage.objects.filter(pk__in=[change.to_stage_id, change.from_stage_id]).values_list(
            "pk", "name"
        )
    )
    timeline.record(change.contact_id, timeline.stage_event(change, names))


def on_outcome(outcome: Any, *, created: bool) -> None:
    timeline.record(outcome.contact_id, timeline.outcome_event(outcome))


def on_task(task: Any, *, created: bool) -> None:
    if created:
        timeline.record(task.contact_id, timeline.task_event(task))


def on_engagement(engagement: Any, *, created: bool) -> None:
    if created:
        timeline.record(engagement.contact_id, timeline.engagement_event(engagement))


def on_credit_adjustment(adjustment: Any, *, created: bool) -> None:
    if created:
        timeline.record(adjustment.engagement.contact_id, timeline.credit_event(adjustment))


def connect() -> None:
    from django.contrib.auth import get_user_model

    from bookings.signals import booking_moved
    from comments.models import Comment
    from guides.models import GuideView
    from newsletter.models import Click
    from store.models import CreditGrant, Order

    pairs: list[tuple[Any, Callable[..., None]]] = [
        (get_user_model(), on_user),
        (GuideView, on_guide_view),
        (Order, on_order),
        (CreditGrant, on_credit_grant),
        (Booking, on_booking),
        (Seat, on_seat),
        (Subscriber, on_subscriber),
        (Click, on_click),
        (Comment, on_comment),
        (Note, on_note),
        (StageChange, on_stage_change),
        (Outcome, on_outcome),
        (Task, on_task),
        (Engagement, on_engagement),
        (CreditAdjustment, on_credit_adjustment),
    ]
    # The fields a receiver reads, where a save of none of them can be skipped:
    # on_order reads these (timeline.order_events, contact_for).
    watched = {
        on_order: frozenset({"paid_at", "amount_refunded", "status", "total", "email", "user"})
    }
    booking_moved.connect(
        safely(on_booking_moved),
        sender=Booking,
        weak=False,
        dispatch_uid="clients-on_booking_moved",
    )
    for model, fn in pairs:
        post_save.connect(
            safely(fn, watched.get(fn, frozenset())),
            sender=model,
            weak=False,
            dispatch_uid=f"clients-{fn.__name__}",
        )


def link_existing_people() -> int:
    """Contacts for everyone the other apps already know (the backfill's first step)."""
    from django.contrib.auth import get_user_model

    from store.models import CreditGrant, Order

    before = Contact.objects.count()
    for user in get_user_model().objects.filter(is_staff=False):
        services.contact_for(
            email=user.email, name=user.name, user=user, source=Source.ACCOUNT, now=user.date_joined
        )
    for subscriber in Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED):
        services.contact_for(
            email=subscriber.email,
            name=subscriber.name,
            source=Source.NEWSLETTER,
            detail=subscriber.consent_source,
        )
    for order in Order.objects.filter(paid_at__isnull=False):
        services.contact_for(email=order.email, user=order.user, source=Source.PURCHASE)
    for booking in Booking.objects.exclude(email="").select_related("event_type"):
        if booking.status in Booking.UNSETTLED:
            continue
        contact = services.contact_for(
            email=booking.email,
            name=booking.name,
            time_zone=booking.time_zone,
            source=Source.BOOKING,
            detail=booking.event_type.name,
        )
        if (
            contact
            and booking.status == Booking.Status.CONFIRMED
            and booking.event_type.kind == EventType.Kind.DISCOVERY
        ):
            services.advance(contact=contact, role=Stage.Role.DISCOVERY, reason="Booked a call")
    for grant in CreditGrant.objects.select_related("user", "product"):
        services.open_engagement_for_grant(grant=grant)
    return Contact.objects.count() - before
