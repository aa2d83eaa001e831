"""Group-session workflows: schedule a session, take, move and cancel seats, the seat
waitlist with its timed holds, attendance, and the coach's note to everyone.

The promise "never more attendees than seats" is the database's: a seat is
inserted in the same transaction as a conditional UPDATE of its session's
counter (`GroupSession.take_a_seat`), which a CHECK constraint backs up, and
the unique index on (session, lower(email)) keeps one seat per person. These
verbs turn those refusals into `SessionFull` (a 409 / form error) and
`AlreadyBooked`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bookings import emails
from bookings.availability import coach_zone_name
from bookings.group_models import SeatStateError
from bookings.models import (
    Booking,
    Cohort,
    EventType,
    GroupSession,
    Seat,
    WaitlistEntry,
)
from bookings.services import BookingError, NoCredits, PolicyError, SlotTaken, _save_taking_the_slot
from bookings.slots import zone
from coaching import times
from coaching.tasks import enqueue_on_commit
from store.models import CreditGrant


class SessionFull(SlotTaken):
    """Every seat is taken (a 409): the visitor may join the waitlist."""


class AlreadyBooked(BookingError):
    """This person already holds a seat in the session."""


# --- The coach schedules -------------------------------------------------------


def schedule_group_session(
    *,
    event_type: EventType,
    start: datetime,
    cohort: Cohort | None = None,
    capacity: int | None = None,
    meeting_url: str = "",
    now: datetime | None = None,
) -> GroupSession:
    """A dated session, and the coach's time for it as a booking (SlotTaken if it overlaps)."""
    now = now or timezone.now()
    if not event_type.is_group:
        raise BookingError("Only a group event type (more than one seat) has dated sessions.")
    if start.tzinfo is None:
        raise BookingError("The start time needs a time zone.")
    link = meeting_url or event_type.new_meeting_link()
    block = Booking(
        event_type=event_type,
        # The coach's calendar entry for the session carries the room everyone joins.
        meeting_url=link,
        coach_id=event_type.coach_id,
        status=Booking.Status.CONFIRMED,
        confirmed_at=now,
        name=f"{event_type.name} (group session)",
        time_zone=coach_zone_name(),
        policy=event_type.policy(),
    )
    block.place(start)
    with transaction.atomic():
        _save_taking_the_slot(block, now=now)
        return GroupSession.objects.create(
            event_type=event_type,
            cohort=cohort,
            start=block.start,
            end=block.end,
            capacity=capacity or event_type.seats,
            time_block=block,
            meeting_url=link,
        )


# --- Taking a seat ---------------------------------------------------------------


def _release_expired_holds(session: GroupSession, *, now: datetime) -> None:
    """Holds that ran out still count until swept; free them before judging 'full'."""
    for seat in Seat.objects.select_for_update(skip_locked=True).filter(
        session=session,
        status__in=[Seat.Status.HELD, Seat.Status.PENDING_PAYMENT],
        hold_expires_at__lte=now,
    ):
        seat.expire_hold()
        session.free_a_seat()
        _withdraw_waiter(seat)


def take_seat(
    *,
    session: GroupSession,
    name: str,
    email: str,
    time_zone: str,
    user: Any = None,
    status: str = Seat.Status.CONFIRMED,
    hold_until: datetime | None = None,
    from_waitlist: WaitlistEntry | None = None,
    cohort: Cohort | None = None,
    now: datetime | None = None,
) -> Seat:
    """The guarded insert: the counter first (it queues concurrent callers on the row),
    then the seat; both or neither."""
    now = now or timezone.now()
    with transaction.atomic():
        _release_expired_holds(session, now=now)
        if not session.take_a_seat():
            raise SessionFull("This session is full: join the waitlist to hear if a seat opens.")
        seat = Seat(
            session=session,
            cohort=cohort,
            name=name,
            email=email.strip().lower(),
            time_zone=time_zone,
            user=user if getattr(user, "is_authenticated", False) else None,
            status=status,
            hold_expires_at=hold_until,
            from_waitlist=from_waitlist,
            price_amount=session.event_type.price_amount,
            policy=session.event_type.policy(),
            confirmed_at=now if status == Seat.Status.CONFIRMED else None,
        )
        try:
            with transaction.atomic():
                seat.save()
        except IntegrityError as error:
            if "seat_one_per_person_per_session" in str(error):
                raise AlreadyBooked("You already have a seat in this session.") from None
            raise
    return seat


def book_seat(
    *,
    session: GroupSession,
    name: str,
    email: str,
    time_zone: str,
    user: Any = None,
    now: datetime | None = None,
) -> list[Seat]:
    """A seat for one person: in this session, or in every session of its cohort.

    Free: confirmed with an invitation each. Package: one credit per seat, in the
    same transaction. Paid: held as pending payment until the store confirms it.
    """
    now = now or timezone.now()
    zone(time_zone)
    event_type = session.event_type
    sessions = [session]
    if session.cohort_id is not None and event_type.series_length > 1:
        sessions = list(
            GroupSession.objects.filter(cohort_id=session.cohort_id, is_cancelled=False)
            .select_related("event_type__coach")
            .order_by("start")
        )
    if any(s.start <= now for s in sessions):
        raise PolicyError("This session has started: please pick another date.")
    paid = event_type.kind == EventType.Kind.PAID
    status = Seat.Status.PENDING_PAYMENT if paid else Seat.Status.CONFIRMED
    hold = now + timedelta(minutes=event_type.payment_window_minutes) if paid else None
    seats: list[Seat] = []
    with transaction.atomic():
        for each in sessions:
            seats.append(
                take_seat(
                    session=each, name=name, email=email, time_zone=time_zone, user=user,
                    status=status, hold_until=hold, cohort=each.cohort, now=now,
                )
            )  # fmt: skip
        if event_type.kind == EventType.Kind.PACKAGE:
            _take_credits(seats, user=user)
        if not paid:
            for seat in seats:
                emails.send_seat_invitation(seat)
    return seats


def _take_credits(seats: list[Seat], *, user: Any) -> None:
    """One package credit per seat, from locked grants (the same rule as one-to-one calls)."""
    if not getattr(user, "is_authenticated", False):
        raise NoCredits(
            "Seats in this workshop use credits from a coaching package: please sign in first.",
            signed_in=False,
        )
    for seat in seats:
        when = times.short_datetime(seat.session.start, coach_zone_name())
        reason = f"{seat.session.event_type.name}, {when}"
        for grant in CreditGrant.objects.usable_by(user).select_for_update(of=("self",)):
            if grant.use_one(reason=reason, reference=f"seat-{seat.pk}"):
                seat.credit_grant = grant
                seat.save(update_fields=["credit_grant", "updated_at"])
                break
        else:
            raise NoCredits(
                "You have too few session credits left for this workshop.", signed_in=True
            )


def confirm_paid_seats(*, order_id: int, now: datetime | None = None) -> list[Seat]:
    """The store's payment arrived: confirm the order's seats (safe to call twice).

    A seat whose payment window ran out before the payment came lost its place to
    someone else: its share is refunded after commit instead.
    """
    now = now or timezone.now()
    confirmed = []
    with transaction.atomic():
        for seat in Seat.objects.select_for_update().filter(order_id=order_id):
            if seat.status == Seat.Status.PENDING_PAYMENT:
                seat.confirm(now=now)
                emails.send_seat_invitation(seat)
                confirmed.append(seat)
            elif seat.status in {Seat.Status.EXPIRED, Seat.Status.CANCELLED}:
                _refund_after_commit(seat)
    return confirmed


def _refund_after_commit(seat: Seat) -> None:
    from bookings.tasks import refund_seat_payment

    enqueue_on_commit(refund_seat_payment, seat.pk)


# --- The attendee changes their own seat --------------------------------------------


def _locked(seat: Seat) -> Seat:
    return (
        Seat.objects.select_for_update(of=("self",))
        .select_related("session__event_type__coach")
        .get(pk=seat.pk)
    )


def cancel_seat(*, seat: Seat, now: datetime | None = None, by_coach: bool = False) -> Seat:
    """Give one seat back; nobody else's seat is touched. The freed seat goes to the waitlist."""
    now = now or timezone.now()
    with transaction.atomic():
        seat = _locked(seat)
        if not by_coach and not seat.can_change(now):
            raise PolicyError("This seat can no longer be cancelled online.")
        late = not by_coach and seat.cancel_is_late(now)
        was_confirmed = seat.status == Seat.Status.CONFIRMED
        try:
            seat.cancel(late=late, now=now)
        except SeatStateError as error:
            raise PolicyError(str(error)) from None
        seat.session.free_a_seat()
        if not late and seat.order_id:
            _refund_after_commit(seat)  # the task checks the order was paid
        if not late and seat.credit_grant_id and seat.credit_returned_at is None:
            grant = CreditGrant.objects.select_for_update().get(pk=seat.credit_grant_id)
            if grant.give_back(reason="Seat cancelled in time", reference=f"seat-{seat.pk}"):
                seat.credit_returned_at = now
                seat.save(update_fields=["credit_returned_at", "updated_at"])
        if was_confirmed:
            emails.send_seat_cancelled(seat)
        offer_freed_seat(session=seat.session, now=now)
    return seat


def move_seat(*, seat: Seat, to: GroupSession, now: datetime | None = None) -> Seat:
    """Move one seat to another session of the same type: a place there first, then free
    this one (so a full target refuses and nothing changed)."""
    now = now or timezone.now()
    with transaction.atomic():
        seat = _locked(seat)
        old = seat.session
        if to.event_type_id != old.event_type_id or to.pk == old.pk or to.is_cancelled:
            raise PolicyError("Pick another date of the same workshop.")
        if not seat.can_change(now) or to.start <= now:
            raise PolicyError("This seat can no longer be moved online.")
        if seat.status != Seat.Status.CONFIRMED:
            raise PolicyError("Only a confirmed seat can be moved.")
        if seat.cohort_id is not None:
            # A cohort is bought whole: moving one of its sessions is the coach's call.
            raise PolicyError("Seats in a cohort move with the coach: reply to your invitation.")
        if not to.take_a_seat():
            raise SessionFull("That date is full: pick another.")
        try:
            with transaction.atomic():
                seat.move_to(to)
        except IntegrityError:
            raise AlreadyBooked("You already have a seat on that date.") from None
        old.free_a_seat()
        emails.send_seat_invitation(seat)
        offer_freed_seat(session=old, now=now)
    return seat


# --- The seat waitlist: first come, first served, a timed hold each -------------


def join_seat_waitlist(
    *, session: GroupSession, name: str, email: str, time_zone: str
) -> WaitlistEntry:
    zone(time_zone)
    entry, _ = WaitlistEntry.objects.get_or_create(
        event_type=session.event_type,
        group_session=session,
        email=email.strip().lower(),
        status=WaitlistEntry.Status.WAITING,
        defaults={"name": name, "time_zone": time_zone},
    )
    return entry


def offer_freed_seat(*, session: GroupSession, now: datetime) -> Seat | None:
    """Hold a free seat for the first person waiting for this session, and tell them."""
    if session.start <= now + timedelta(minutes=session.event_type.minimum_notice_minutes):
        return None
    waiting = (
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(group_session=session, status=WaitlistEntry.Status.WAITING)
        .order_by("created_at")
    )
    hold_until = now + timedelta(minutes=session.event_type.waitlist_hold_minutes)
    for entry in waiting[:5]:
        try:
            seat = take_seat(
                session=session, name=entry.name, email=entry.email, time_zone=entry.time_zone,
                status=Seat.Status.HELD, hold_until=hold_until, from_waitlist=entry, now=now,
            )  # fmt: skip
        except SessionFull:
            return None
        except AlreadyBooked:
            entry.status = WaitlistEntry.Status.WITHDRAWN
            entry.save(update_fields=["status"])
            continue
        entry.status = WaitlistEntry.Status.OFFERED
        entry.offered_at = now
        entry.save(update_fields=["status", "offered_at"])
        emails.send_seat_offer(seat)
        return seat
    return None


def claim_held_seat(*, seat: Seat, user: Any = None, now: datetime | None = None) -> Seat:
    """The person waiting takes the seat held for them, before the hold runs out: a free
    seat is confirmed, a package seat takes a credit, a paid seat waits for payment."""
    now = now or timezone.now()
    with transaction.atomic():
        seat = _locked(seat)
        if seat.status != Seat.Status.HELD or seat.hold_expires_at is None:
            raise PolicyError("This seat is not held for you.")
        if seat.hold_expires_at <= now:
            raise PolicyError("The hold on this seat ran out: it went to the next person.")
        event_type = seat.session.event_type
        if seat.from_waitlist_id:
            WaitlistEntry.objects.filter(pk=seat.from_waitlist_id).update(
                status=WaitlistEntry.Status.BOOKED
            )
        if event_type.kind == EventType.Kind.PAID:
            seat.await_payment(until=now + timedelta(minutes=event_type.payment_window_minutes))
            return seat
        if event_type.kind == EventType.Kind.PACKAGE:
            _take_credits([seat], user=user)
        seat.confirm(now=now)
        emails.send_seat_invitation(seat)
    return seat


def _withdraw_waiter(seat: Seat) -> None:
    if seat.from_waitlist_id:
        WaitlistEntry.objects.filter(pk=seat.from_waitlist_id).update(
            status=WaitlistEntry.Status.WITHDRAWN
        )


def expire_seat_holds(*, now: datetime | None = None) -> int:
    """Beat: free held and unpaid seats whose time ran out; a freed seat passes on."""
    now = now or timezone.now()
    expired = 0
    with transaction.atomic():
        rows = list(
            Seat.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("session__event_type")
            .filter(
                status__in=[Seat.Status.HELD, Seat.Status.PENDING_PAYMENT],
                hold_expires_at__lte=now,
            )[:500]
        )
        for seat in rows:
            seat.expire_hold()
            seat.session.free_a_seat()
            _withdraw_waiter(seat)
            expired += 1
            offer_freed_seat(session=seat.session, now=now)
    return expired


# --- The coach -----------------------------------------------------------------------


def mark_attendance(*, seat: Seat, status: str) -> Seat:
    """Attended or no-show, per person. A no-show keeps the seat's payment or credit used,
    as a late cancellation does (the same policy as one-to-one calls)."""
    with transaction.atomic():
        seat = _locked(seat)
        try:
            seat.mark(status)
        except SeatStateError as error:
            raise PolicyError(str(error)) from None
    return seat


def email_attendees(*, session: GroupSession, subject: str, message: str) -> int:
    """One email to each confirmed attendee; the same message sent twice goes out once."""
    key = hashlib.sha256(f"{subject}\n{message}".encode()).hexdigest()[:16]
    count = 0
    with transaction.atomic():
        for seat in session.seats.attendees().select_related("session__event_type"):
            emails.send_attendee_message(seat, subject=subject, message=message, key=key)
            count += 1
    return count
