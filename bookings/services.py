"""Booking workflows: hold, book, confirm, pay, reschedule, cancel, waitlist, reminders.

The exclusion constraint decides who gets a contested slot; these verbs turn
its IntegrityError into `SlotTaken` (a 409 in the API, a form error on pages).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from bookings import emails
from bookings.availability import busy_for, coach_zone_name, rules_for
from bookings.models import Booking, BookingReminder, EventType, WaitlistEntry
from bookings.signals import booking_moved
from bookings.slots import compute_slots, zone
from coaching import times
from coaching.tasks import enqueue_on_commit
from store.models import CreditGrant

PREP_BRIEF_MINUTES = 60


class BookingError(Exception):
    """Bad input: the message is safe to show."""


class SlotUnavailable(BookingError):
    """The time is not one the coach offers (outside availability, notice or horizon)."""


class SlotTaken(BookingError):
    """Someone else has this time (or it overlaps their buffers): a 409."""


class PolicyError(BookingError):
    """The booking's policy no longer allows this change."""


class NoCredits(BookingError):
    """A package session needs a signed-in client with a session credit left."""

    def __init__(self, message: str, *, signed_in: bool) -> None:
        super().__init__(message)
        self.signed_in = signed_in


# --- Checks ------------------------------------------------------------------


def check_slot(
    *, event_type: EventType, start: datetime, now: datetime, exclude: Booking | None = None
) -> None:
    """Raise SlotUnavailable if the rules never offer `start`, SlotTaken if a booking blocks it."""
    if start.tzinfo is None:
        raise SlotUnavailable("The start time needs a time zone offset.")
    if start.second or start.microsecond:
        raise SlotUnavailable("That time is not offered.")
    rules = rules_for(event_type)
    end = start + timedelta(seconds=1)
    if start not in compute_slots(rules, start=start, end=end, now=now):
        raise SlotUnavailable("That time is not offered: pick one of the available times.")
    busy, per_day = busy_for(event_type, rules, start=start, end=end, now=now, exclude=exclude)
    if start not in compute_slots(
        rules, start=start, end=end, now=now, busy=busy, booked_per_day=per_day
    ):
        raise SlotTaken("That time was just taken: please pick another.")


def release_expired_holds(*, coach_id: int, during: DateTimeTZRange, now: datetime) -> int:
    """Free holds that ran out and sit in the way (the constraint cannot see the clock)."""
    return Booking.objects.filter(
        coach_id=coach_id,
        status__in=[Booking.Status.HELD, Booking.Status.PENDING_PAYMENT],
        hold_expires_at__lte=now,
        during__overlap=during,
    ).update(status=Booking.Status.EXPIRED, updated_at=now)


def _save_taking_the_slot(booking: Booking, *, now: datetime, **save: Any) -> None:
    """Save a row that claims coach time; a concurrent claim becomes SlotTaken."""
    release_expired_holds(coach_id=booking.coach_id, during=booking.during, now=now)
    try:
        with transaction.atomic():
            booking.save(**save)
    except IntegrityError as error:
        if "booking_no_double_booking" in str(error):
            raise SlotTaken("That time was just taken: please pick another.") from None
        raise


# --- Package credits ---------------------------------------------------------


def has_usable_credit(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False) and CreditGrant.objects.usable_by(user).exists()
    )


def _take_credit(booking: Booking, *, user: Any) -> None:
    """Spend one package credit on a booking, inside the caller's transaction.

    The grant row is locked first, and use_one() is a conditional update on
    top, so two bookings racing for the last credit get one credit between them.
    """
    if not getattr(user, "is_authenticated", False):
        raise NoCredits(
            "Package sessions use a credit from a coaching package: please sign in first.",
            signed_in=False,
        )
    # The coach reads this reason on the contact's timeline.
    when = times.short_datetime(booking.start, coach_zone_name())
    reason = f"{booking.event_type.name}, {when}"
    for grant in CreditGrant.objects.usable_by(user).select_for_update(of=("self",)):
        if grant.use_one(reason=reason, reference=f"booking-{booking.pk}"):
            booking.credit_grant = grant
            booking.save(update_fields=["credit_grant", "updated_at"])
            return
    raise NoCredits(
        "You have no session credits left. A coaching package in the store gives you more.",
        signed_in=True,
    )


def _settle_cancellation(booking: Booking, *, now: datetime) -> None:
    """In time (or by the coach): the credit goes back and a payment is refunded.

    A late cancellation keeps both, as the policy on the booking says.
    """
    if booking.status != Booking.Status.CANCELLED:
        return
    if booking.credit_grant_id and booking.credit_returned_at is None:
        grant = CreditGrant.objects.select_for_update().get(pk=booking.credit_grant_id)
        if grant.give_back(reason="Cancelled in time", reference=f"booking-{booking.pk}"):
            booking.credit_returned_at = now
            booking.save(update_fields=["credit_returned_at", "updated_at"])
    if booking.order_id:
        from bookings.tasks import refund_booking_payment_task

        enqueue_on_commit(refund_booking_payment_task, booking.pk)


# --- Booking -----------------------------------------------------------------


def hold_slot(
    *,
    event_type: EventType,
    start: datetime,
    time_zone: str,
    now: datetime | None = None,
    waitlist_entry: WaitlistEntry | None = None,
    hold_for: timedelta | None = None,
) -> Booking:
    """Keep a time for a few minutes while the candidate fills in the form."""
    now = now or timezone.now()
    zone(time_zone)
    check_slot(event_type=event_type, start=start, now=now)
    booking = Booking(
        event_type=event_type,
        coach_id=event_type.coach_id,
        status=Booking.Status.HELD,
        time_zone=time_zone,
        hold_expires_at=now + (hold_for or timedelta(minutes=event_type.hold_minutes)),
        meeting_url=event_type.new_meeting_link(),
        policy=event_type.policy(),
        price_amount=event_type.price_amount,
        from_waitlist=waitlist_entry,
    )
    booking.place(start)
    with transaction.atomic():
        _save_taking_the_slot(booking, now=now)
    return booking


def book_slot(
    *,
    event_type: EventType,
    start: datetime,
    name: str,
    email: str,
    time_zone: str,
    answers: dict[str, str] | None = None,
    user: Any = None,
    now: datetime | None = None,
) -> Booking:
    """Book in one step (the API): confirmed if free, pending payment if paid."""
    now = now or timezone.now()
    zone(time_zone)
    check_slot(event_type=event_type, start=start, now=now)
    booking = Booking(
        event_type=event_type,
        coach_id=event_type.coach_id,
        user=user if getattr(user, "is_authenticated", False) else None,
        name=name,
        email=email,
        time_zone=time_zone,
        answers=answers or {},
        meeting_url=event_type.new_meeting_link(),
        policy=event_type.policy(),
        price_amount=event_type.price_amount,
    )
    booking.place(start)
    if event_type.kind == EventType.Kind.PAID:
        booking.await_payment(until=now + timedelta(minutes=event_type.payment_window_minutes))
    else:
        booking.confirm(now=now)
    with transaction.atomic():
        _save_taking_the_slot(booking, now=now)
        if event_type.kind == EventType.Kind.PACKAGE:
            _take_credit(booking, user=user)
        if booking.status == Booking.Status.CONFIRMED:
            _after_confirmation(booking, now=now)
    return booking


def complete_hold(
    *,
    booking: Booking,
    name: str,
    email: str,
    answers: dict[str, str],
    time_zone: str,
    user: Any = None,
    now: datetime | None = None,
) -> Booking:
    """The intake form was sent: confirm a free call, or wait for payment."""
    now = now or timezone.now()
    zone(time_zone)
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update().select_related("event_type").get(pk=booking.pk)
        )
        if booking.status not in {Booking.Status.HELD, Booking.Status.EXPIRED}:
            raise BookingError("This booking is already complete.")
        booking.name, booking.email, booking.answers = name, email, answers
        booking.time_zone = time_zone
        if user is not None and getattr(user, "is_authenticated", False):
            booking.user = user
        if booking.start <= now:
            raise SlotUnavailable("That time has passed: please pick another.")
        event_type = booking.event_type
        if event_type.kind == EventType.Kind.PAID:
            booking.await_payment(until=now + timedelta(minutes=event_type.payment_window_minutes))
        else:  # a free call, or a package session paid with a credit just below
            booking.confirm(now=now)
        # An expired hold becomes active again only if nobody took the time meanwhile.
        _save_taking_the_slot(booking, now=now)
        if event_type.kind == EventType.Kind.PACKAGE:
            # Same transaction as the confirmation: no credit, no booking.
            _take_credit(booking, user=booking.user)
        if booking.from_waitlist_id:
            WaitlistEntry.objects.filter(pk=booking.from_waitlist_id).update(
                status=WaitlistEntry.Status.BOOKED
            )
        if booking.status == Booking.Status.CONFIRMED:
            _after_confirmation(booking, now=now)
    return booking


def confirm_paid_booking(
    *, booking_id: int, payment_reference: str = "", now: datetime | None = None
) -> Booking:
    """For the store: payment (or a package credit) arrived; confirm the time.

    Safe to call twice. Raises SlotTaken when the payment came after the hold
    ran out and someone else took the time: the store should refund.
    """
    now = now or timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update().select_related("event_type").get(pk=booking_id)
        )
        if booking.status == Booking.Status.CONFIRMED:
            return booking
        if booking.status not in {
            Booking.Status.PENDING_PAYMENT,
            Booking.Status.EXPIRED,
            Booking.Status.HELD,
        }:
            raise BookingError(f"A {booking.status} booking cannot be confirmed.")
        booking.confirm(now=now)
        booking.payment_reference = payment_reference or booking.payment_reference
        _save_taking_the_slot(booking, now=now)
        _after_confirmation(booking, now=now)
    return booking


def _after_confirmation(booking: Booking, *, now: datetime) -> None:
    if not booking.meeting_url:  # held before the event type had a meeting link
        booking.meeting_url = booking.event_type.new_meeting_link()
        if booking.meeting_url:
            booking.save(update_fields=["meeting_url", "updated_at"])
    schedule_reminders(booking=booking, now=now)
    emails.send_booking_confirmed(booking)
    emails.send_booking_to_coach(booking, change="new")


# --- Changes -----------------------------------------------------------------


def reschedule_booking(
    *, booking: Booking, start: datetime, now: datetime | None = None
) -> Booking:
    now = now or timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update().select_related("event_type").get(pk=booking.pk)
        )
        if booking.status != Booking.Status.CONFIRMED:
            raise PolicyError("Only a confirmed booking can be moved.")
        if booking.reschedules_left() <= 0:
            raise PolicyError("This booking has been moved as many times as the policy allows.")
        if now > booking.reschedule_deadline():
            raise PolicyError("It is too close to the call to move it online.")
        if start == booking.start:
            raise SlotUnavailable("That is the time already booked.")
        check_slot(event_type=booking.event_type, start=start, now=now, exclude=booking)
        old_start, old_end = booking.start, booking.end
        booking.place(start)
        booking.reschedule_count += 1
        booking.sequence += 1
        _save_taking_the_slot(
            booking,
            now=now,
            update_fields=["start", "end", "during", "reschedule_count", "sequence", "updated_at"],
        )
        schedule_reminders(booking=booking, now=now)
        booking_moved.send(sender=Booking, instance=booking, old_start=old_start, old_end=old_end)
        emails.send_booking_rescheduled(booking)
        emails.send_booking_to_coach(booking, change="moved")
    return booking


def cancel_booking(
    *, booking: Booking, now: datetime | None = None, by_coach: bool = False
) -> Booking:
    now = now or timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update().select_related("event_type").get(pk=booking.pk)
        )
        if not by_coach and not booking.can_cancel(now):
            raise PolicyError("This booking can no longer be cancelled online.")
        was_confirmed = booking.status == Booking.Status.CONFIRMED
        booking.cancel(late=not by_coach and booking.cancel_is_late(now), now=now)
        booking.reminders.filter(status=BookingReminder.Status.PENDING).update(
            status=BookingReminder.Status.SKIPPED
        )
        _settle_cancellation(booking, now=now)
        if was_confirmed:
            emails.send_booking_cancelled(booking)
            emails.send_booking_to_coach(booking, change="cancelled")
            offer_freed_slot(booking=booking, now=now)
    return booking


# --- Reminders ---------------------------------------------------------------


def schedule_reminders(*, booking: Booking, now: datetime) -> None:
    """Replace the booking's pending reminders with rows due before its current start."""
    booking.reminders.filter(status=BookingReminder.Status.PENDING).delete()
    rows = []
    offsets = [int(m) for m in booking.event_type.reminder_offsets_minutes or [] if int(m) > 0]
    for minutes in sorted(set(offsets)):
        due = booking.start - timedelta(minutes=minutes)
        if due > now:
            rows.append((BookingReminder.Kind.CANDIDATE, minutes, due))
    if booking.start > now:
        brief_due = max(now, booking.start - timedelta(minutes=PREP_BRIEF_MINUTES))
        rows.append((BookingReminder.Kind.PREP_BRIEF, PREP_BRIEF_MINUTES, brief_due))
    BookingReminder.objects.bulk_create(
        [
            BookingReminder(
                booking=booking, kind=kind, offset_minutes=minutes, for_start=booking.start,
                due_at=due,
            )
            for kind, minutes, due in rows
        ],
        ignore_conflicts=True,
    )  # fmt: skip


def send_due_reminders(*, now: datetime | None = None, limit: int = 200) -> int:
    """Claim due rows (skip those another worker holds), re-check, send. Safe to run twice."""
    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        due = list(
            BookingReminder.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("booking", "booking__event_type", "booking__coach")
            .filter(status=BookingReminder.Status.PENDING, due_at__lte=now)
            .order_by("due_at")[:limit]
        )
        for reminder in due:
            booking = reminder.booking
            still_on = (
                booking.status == Booking.Status.CONFIRMED
                and booking.start == reminder.for_start
                and booking.start > now
            )
            if not still_on:
                reminder.status = BookingReminder.Status.SKIPPED
                reminder.save(update_fields=["status"])
                continue
            if reminder.kind == BookingReminder.Kind.PREP_BRIEF:
                emails.send_prep_brief(booking)
            else:
                emails.send_reminder(booking, offset_minutes=reminder.offset_minutes)
            reminder.status = BookingReminder.Status.SENT
            reminder.sent_at = now
            reminder.save(update_fields=["status", "sent_at"])
            sent += 1
    return sent


def expire_holds(*, now: datetime | None = None) -> int:
    """Free every hold that ran out; a waitlist hold passes to the next person."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        rows = list(
            Booking.objects.select_for_update(skip_locked=True)
            .select_related("event_type")
            .filter(
                status__in=[Booking.Status.HELD, Booking.Status.PENDING_PAYMENT],
                hold_expires_at__lte=now,
            )[:500]
        )
        for booking in rows:
            booking.expire_hold()
            expired += 1
            if booking.from_waitlist_id:
                WaitlistEntry.objects.filter(pk=booking.from_waitlist_id).update(
                    status=WaitlistEntry.Status.WITHDRAWN
                )
                offer_freed_slot(booking=booking, now=now)
    return expired


# --- Waitlist ----------------------------------------------------------------


def join_waitlist(
    *,
    event_type: EventType,
    name: str,
    email: str,
    time_zone: str,
    earlier_than: datetime | None = None,
) -> WaitlistEntry:
    zone(time_zone)
    entry, _ = WaitlistEntry.objects.get_or_create(
        event_type=event_type,
        email=email.lower(),
        status=WaitlistEntry.Status.WAITING,
        defaults={"name": name, "time_zone": time_zone, "earlier_than": earlier_than},
    )
    return entry


def offer_freed_slot(*, booking: Booking, now: datetime) -> WaitlistEntry | None:
    """Hold a freed time for the first person waiting who wants it, and tell them."""
    event_type = booking.event_type
    if booking.start <= now + timedelta(minutes=event_type.minimum_notice_minutes):
        return None
    candidates = (
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(event_type=event_type, status=WaitlistEntry.Status.WAITING)
        .exclude(earlier_than__lte=booking.start)
        .exclude(email__iexact=booking.email)
        .order_by("created_at")
    )
    for entry in candidates[:5]:
        try:
            hold = hold_slot(
                event_type=event_type,
                start=booking.start,
                time_zone=entry.time_zone,
                now=now,
                waitlist_entry=entry,
                hold_for=timedelta(minutes=event_type.waitlist_hold_minutes),
            )
        except BookingError:
            return None  # the time is not free any more
        hold.name, hold.email = entry.name, entry.email
        hold.save(update_fields=["name", "email"])
        entry.status = WaitlistEntry.Status.OFFERED
        entry.offered_at = now
        entry.save(update_fields=["status", "offered_at"])
        emails.send_waitlist_offer(hold)
        return entry
    return None
