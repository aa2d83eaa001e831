"""Group sessions: dated sessions of a workshop type, their cohorts, and the seats in them.

Two promises are kept by the database, not by application code:

- never more seats than the session has: `GroupSession.seats_taken` is raised by one
  conditional UPDATE (`seats_taken < capacity`) in the transaction that inserts the
  seat, and a CHECK constraint refuses a count above capacity whatever writes it;
- one seat per person per session: a unique index on (session, lower(email)) over
  the seats that hold a place.

A session takes the coach's time through an ordinary `Booking` row (`time_block`),
so the exclusion constraint and `Booking.BLOCKING_SQL` keep one-to-one slots off it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Cohort(models.Model):
    """A series of dated sessions sold together: one seat buys a place in each."""

    event_type = models.ForeignKey(
        "bookings.EventType", on_delete=models.PROTECT, related_name="cohorts"
    )
    name = models.CharField(max_length=120, help_text="e.g. 'Spring cohort'.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.event_type.name}: {self.name}"


class GroupSessionQuerySet(models.QuerySet["GroupSession"]):
    def upcoming(self, now: datetime | None = None) -> GroupSessionQuerySet:
        return self.filter(
            start__gt=now or timezone.now(), event_type__is_active=True, is_cancelled=False
        ).order_by("start")

    def with_seats_left(self) -> GroupSessionQuerySet:
        return self.filter(seats_taken__lt=models.F("capacity"))


class GroupSession(models.Model):
    event_type = models.ForeignKey(
        "bookings.EventType", on_delete=models.PROTECT, related_name="group_sessions"
    )
    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    start = models.DateTimeField()
    end = models.DateTimeField()
    capacity = models.PositiveSmallIntegerField(help_text="Seats in this session.")
    # Seats held, unpaid, confirmed or settled (attended, no-show): only the verbs in
    # bookings/seats.py move it, in the transaction that changes the seat.
    seats_taken = models.PositiveSmallIntegerField(default=0, editable=False)
    # The coach's time for this session: a confirmed Booking without a candidate.
    time_block = models.OneToOneField(
        "bookings.Booking",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="group_session",
    )
    meeting_url = models.CharField(
        "meeting link", max_length=300, blank=True, help_text="The link every attendee joins."
    )
    is_cancelled = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = GroupSessionQuerySet.as_manager()

    class Meta:
        ordering = ["start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seats_taken__lte=models.F("capacity")),
                name="group_session_never_overbooked",
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="group_session_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type.name}, {self.start:%Y-%m-%d %H:%M} UTC"

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.seats_taken)

    # --- The seat counter: conditional updates, so concurrent callers queue on the row

    def take_a_seat(self) -> bool:
        """One more seat, if one is left (the UPDATE locks the row until commit)."""
        taken = GroupSession.objects.filter(
            pk=self.pk, seats_taken__lt=models.F("capacity"), is_cancelled=False
        ).update(seats_taken=models.F("seats_taken") + 1)
        return bool(taken)

    def free_a_seat(self) -> None:
        GroupSession.objects.filter(pk=self.pk, seats_taken__gt=0).update(
            seats_taken=models.F("seats_taken") - 1
        )


class SeatQuerySet(models.QuerySet["Seat"]):
    def attendees(self) -> SeatQuerySet:
        """The people the coach expects (or expected): confirmed or already marked."""
        return self.filter(status__in=Seat.ATTENDING).order_by("name", "email")


class Seat(models.Model):
    class Status(models.TextChoices):
        HELD = "held", "Held for the next person waiting"
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        CONFIRMED = "confirmed"
        ATTENDED = "attended"
        NO_SHOW = "no_show", "No-show"
        CANCELLED = "cancelled"
        LATE_CANCEL = "late_cancel", "Late cancellation"
        EXPIRED = "expired", "Hold expired"

    session = models.ForeignKey(GroupSession, on_delete=models.PROTECT, related_name="seats")
    cohort = models.ForeignKey(
        Cohort, on_delete=models.PROTECT, null=True, blank=True, related_name="seats"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="seats",
    )
    name = models.CharField(max_length=150)
    email = models.EmailField()
    time_zone = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CONFIRMED)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    price_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    order = models.ForeignKey(
        "store.Order", on_delete=models.PROTECT, null=True, blank=True, related_name="seats"
    )
    credit_grant = models.ForeignKey(
        "store.CreditGrant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seats",
    )
    credit_returned_at = models.DateTimeField(null=True, blank=True)
    # This seat's share of its order, given back (cancelled in time, or paid after the
    # place was gone): set in the refund's transaction, so a retry refunds nothing more.
    refund = models.OneToOneField(
        "store.Refund", on_delete=models.PROTECT, null=True, blank=True, related_name="seat"
    )
    from_waitlist = models.ForeignKey(
        "bookings.WaitlistEntry",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    policy = models.JSONField(default=dict, blank=True, help_text="Snapshot at booking time.")
    sequence = models.PositiveIntegerField(default=0, help_text="ICS SEQUENCE.")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = SeatQuerySet.as_manager()

    # Statuses that occupy a place in the session (what `seats_taken` counts).
    TAKING = (
        Status.HELD,
        Status.PENDING_PAYMENT,
        Status.CONFIRMED,
        Status.ATTENDED,
        Status.NO_SHOW,
    )
    ATTENDING = (Status.CONFIRMED, Status.ATTENDED, Status.NO_SHOW)

    class Meta:
        ordering = ["session__start", "pk"]
        constraints = [
            models.UniqueConstraint(
                "session",
                Lower("email"),
                condition=models.Q(
                    status__in=["held", "pending_payment", "confirmed", "attended", "no_show"]
                ),
                name="seat_one_per_person_per_session",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} in {self.session} ({self.status})"

    @property
    def ics_uid(self) -> str:
        return f"{self.uid}@seats"

    @property
    def meeting_link(self) -> str:
        if self.status in {self.Status.CONFIRMED, self.Status.ATTENDED}:
            return self.session.meeting_url
        return ""

    def _policy_hours(self, key: str) -> int:
        value = (self.policy or {}).get(key)
        if value is None:
            value = self.session.event_type.policy()[key]
        return int(value)

    def cancel_deadline(self) -> datetime:
        return self.session.start - timedelta(hours=self._policy_hours("cancel_cutoff_hours"))

    def cancel_is_late(self, now: datetime) -> bool:
        return now > self.cancel_deadline()

    def can_change(self, now: datetime | None = None) -> bool:
        """Cancel or move: the seat is on and the session has not started."""
        return (
            self.status in {self.Status.CONFIRMED, self.Status.PENDING_PAYMENT}
            and (now or timezone.now()) < self.session.start
        )

    # --- State changes: guarded on the current state; the caller moves the counter

    def confirm(self, *, now: datetime) -> None:
        if self.status not in {self.Status.HELD, self.Status.PENDING_PAYMENT}:
            raise SeatStateError(f"A {self.status} seat cannot be confirmed.")
        self.status = self.Status.CONFIRMED
        self.hold_expires_at = None
        self.confirmed_at = now
        self.save(update_fields=["status", "hold_expires_at", "confirmed_at", "updated_at"])

    def await_payment(self, *, until: datetime) -> None:
        """A seat held for someone waiting, claimed: it is theirs once paid."""
        if self.status != self.Status.HELD:
            raise SeatStateError(f"A {self.status} seat cannot wait for payment.")
        self.status = self.Status.PENDING_PAYMENT
        self.hold_expires_at = until
        self.save(update_fields=["status", "hold_expires_at", "updated_at"])

    def cancel(self, *, late: bool, now: datetime) -> None:
        if self.status not in {
            self.Status.CONFIRMED,
            self.Status.PENDING_PAYMENT,
            self.Status.HELD,
        }:
            raise SeatStateError(f"A {self.status} seat cannot be cancelled.")
        self.status = self.Status.LATE_CANCEL if late else self.Status.CANCELLED
        self.cancelled_at = now
        self.sequence += 1
        self.save(update_fields=["status", "cancelled_at", "sequence", "updated_at"])

    def expire_hold(self) -> None:
        if self.status not in {self.Status.HELD, self.Status.PENDING_PAYMENT}:
            raise SeatStateError(f"A {self.status} seat holds nothing.")
        self.status = self.Status.EXPIRED
        self.save(update_fields=["status", "updated_at"])

    def mark(self, status: str) -> None:
        """The coach's register after the session: attended or no-show, per person."""
        allowed = {self.Status.ATTENDED, self.Status.NO_SHOW}
        if status not in allowed:
            raise SeatStateError(f"{status} is not an attendance mark.")
        if self.status not in {self.Status.CONFIRMED, *allowed}:
            raise SeatStateError(f"A {self.status} seat has no attendance to mark.")
        self.status = status
        self.save(update_fields=["status", "updated_at"])

    def move_to(self, session: GroupSession) -> None:
        if self.status != self.Status.CONFIRMED:
            raise SeatStateError("Only a confirmed seat can be moved.")
        self.session = session
        self.sequence += 1
        self.save(update_fields=["session", "sequence", "updated_at"])


class SeatStateError(Exception):
    """A state change asked of a seat in the wrong state."""
