"""Event types, the coach's availability, bookings and their reminders.

Times are UTC in the database; availability is wall-clock time in the coach's
IANA zone (DESIGN.md rule 4). The promise "never double-booked" is kept by an
exclusion constraint on the coach's time, not by application code.
"""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.utils import timezone

from coaching.money import format_money


class EventTypeQuerySet(models.QuerySet["EventType"]):
    def one_to_one(self) -> EventTypeQuerySet:
        """Calls booked on slots from weekly hours (/book/)."""
        return self.filter(seats=1)

    def group(self) -> EventTypeQuerySet:
        """Workshops and cohorts booked by the seat on dated sessions (/workshops/)."""
        return self.filter(seats__gt=1)


class EventType(models.Model):
    class Kind(models.TextChoices):
        DISCOVERY = "discovery", "Free discovery call"
        PAID = "paid", "Paid session"
        PACKAGE = "package", "Package session (uses one credit)"

    class Location(models.TextChoices):
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone call"

    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="event_types"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.DISCOVERY)
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    summary = models.CharField(max_length=300, help_text="What the call is for (one line).")
    description = models.TextField(blank=True, help_text="Markdown: what happens next.")
    duration_minutes = models.PositiveSmallIntegerField(default=20)
    buffer_before_minutes = models.PositiveSmallIntegerField(default=0)
    buffer_after_minutes = models.PositiveSmallIntegerField(default=0)
    minimum_notice_minutes = models.PositiveIntegerField(default=12 * 60)
    horizon_days = models.PositiveSmallIntegerField(default=60)
    daily_cap = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Most bookings of this type on one day; empty = no cap."
    )
    start_increment_minutes = models.PositiveSmallIntegerField(default=30)
    location_kind = models.CharField(
        max_length=10, choices=Location.choices, default=Location.VIDEO
    )
    location_detail = models.CharField(
        max_length=300, blank=True, help_text="Video link, or 'the coach calls you'."
    )
    meeting_url = models.CharField(
        "meeting link",
        max_length=300,
        blank=True,
        help_text="Video calls: your fixed https meeting address, or one with {room} where "
        "each booking gets its own room, e.g. https://meet.jit.si/coaching-{room}.",
    )
    price_amount = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Paid sessions only, until the store prices them.",
    )
    currency = models.CharField(max_length=3, default="GBP")
    intake_questions = models.JSONField(
        default=list,
        blank=True,
        help_text='A list of {"key", "label", "kind": "text"|"choice"|"url", '
        '"required": bool, "choices": [..]}.',
    )
    reminder_offsets_minutes = models.JSONField(
        default=list, blank=True, help_text="Reminders to the candidate, e.g. [1440, 60]."
    )
    hold_minutes = models.PositiveSmallIntegerField(
        default=10, help_text="How long a chosen time is kept while the form is filled in."
    )
    payment_window_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="How long an unpaid booking blocks the time."
    )
    waitlist_hold_minutes = models.PositiveSmallIntegerField(
        default=120, help_text="How long a freed time is kept for the next person waiting."
    )
    cancel_cutoff_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Cancelling later than this counts as a late cancellation."
    )
    reschedule_cutoff_hours = models.PositiveSmallIntegerField(default=24)
    max_reschedules = models.PositiveSmallIntegerField(default=2)
    # Group sessions: more than one seat makes the type a workshop given on dated
    # sessions (bookings/group_models.py) instead of slots from weekly hours.
    seats = models.PositiveSmallIntegerField(
        default=1,
        help_text="Seats per session. 1 is a one-to-one call; more makes it a group session "
        "(a workshop) that you schedule on dates.",
    )
    series_length = models.PositiveSmallIntegerField(
        default=1,
        help_text="Group sessions only: how many dated sessions a cohort has. More than 1 "
        "sells a seat in every session of a cohort together.",
    )
    is_active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    objects = EventTypeQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="event_type_has_a_seat"),
            models.CheckConstraint(
                condition=models.Q(series_length__gte=1), name="event_type_series_has_a_session"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.seats == 0:
            raise ValidationError({"seats": "A session needs at least one seat."})
        if self.series_length > 1 and self.seats == 1:
            raise ValidationError({"series_length": "Only group sessions come as a series."})
        if self.start_increment_minutes == 0:
            raise ValidationError({"start_increment_minutes": "Must be at least one minute."})
        if self.duration_minutes == 0:
            raise ValidationError({"duration_minutes": "Must be at least one minute."})
        if self.kind == self.Kind.PAID and self.price_amount is None:
            raise ValidationError({"price_amount": "A paid session needs a price."})
        if self.meeting_url:
            check_meeting_url(self.meeting_url)

    def new_meeting_link(self) -> str:
        """The link for a new booking: the fixed address, or a fresh room from the template."""
        if not self.meeting_url or self.location_kind != self.Location.VIDEO:
            return ""
        return self.meeting_url.replace(ROOM, new_room_name())

    @property
    def is_group(self) -> bool:
        return self.seats > 1

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)

    def policy(self) -> dict[str, int]:
        return {
            "cancel_cutoff_hours": self.cancel_cutoff_hours,
            "reschedule_cutoff_hours": self.reschedule_cutoff_hours,
            "max_reschedules": self.max_reschedules,
        }

    @property
    def location_label(self) -> str:
        return self.location_detail or self.get_location_kind_display()

    @property
    def price_display(self) -> str:
        """£150.00, as the store writes its prices ("" when there is no price)."""
        if self.price_amount is None:
            return ""
        return format_money(int((self.price_amount * 100).to_integral_value()), self.currency)


ROOM = "{room}"
MEETING_URL_MESSAGE = (
    "Use an https:// address, optionally with {room} where each booking's room name goes."
)


def check_meeting_url(value: str) -> None:
    """https only (the link goes into invitations), and no placeholder but {room}."""
    filled = value.replace(ROOM, "room")
    if "{" in filled or "}" in filled:
        raise ValidationError({"meeting_url": MEETING_URL_MESSAGE})
    try:
        URLValidator(schemes=["https"])(filled)
    except ValidationError:
        raise ValidationError({"meeting_url": MEETING_URL_MESSAGE}) from None


def new_room_name() -> str:
    """Twelve random lowercase letters and digits (about 62 bits): a room nobody guesses."""
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


class AvailabilityRule(models.Model):
    """Weekly hours, wall-clock in the coach's zone: Monday 09:00-17:00."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="rules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()

    class Meta:
        ordering = ["weekday", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="rule_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start_time:%H:%M}-{self.end_time:%H:%M}"


class DateOverride(models.Model):
    """One date's hours replacing the weekly ones, or a day off (no times).

    Without an event type it applies to every event type (a holiday).
    """

    event_type = models.ForeignKey(
        EventType, on_delete=models.CASCADE, related_name="overrides", null=True, blank=True
    )
    date = models.DateField()
    start_time = models.TimeField(null=True, blank=True)
    end_time = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_time__isnull=True, end_time__isnull=True)
                | models.Q(end_time__gt=models.F("start_time")),
                name="override_is_day_off_or_a_window",
            )
        ]

    def __str__(self) -> str:
        if self.is_day_off:
            return f"{self.date}: day off"
        return f"{self.date}: {self.start_time:%H:%M}-{self.end_time:%H:%M}"

    @property
    def is_day_off(self) -> bool:
        return self.start_time is None


ACTIVE_STATUSES = ("held", "pending_payment", "confirmed")


class BookingQuerySet(models.QuerySet["Booking"]):
    def blocking(self, now: datetime | None = None) -> BookingQuerySet:
        """Rows that take the coach's time now: confirmed, or a hold that has not run out."""
        now = now or timezone.now()
        return self.filter(
            models.Q(status=Booking.Status.CONFIRMED)
            | models.Q(status__in=Booking.HOLDING, hold_expires_at__gt=now)
        )

    def upcoming(self, now: datetime | None = None) -> BookingQuerySet:
        return self.filter(
            status=Booking.Status.CONFIRMED, start__gte=now or timezone.now()
        ).order_by("start")


class Booking(models.Model):
    class Status(models.TextChoices):
        HELD = "held"
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        CONFIRMED = "confirmed"
        CANCELLED = "cancelled"
        COMPLETED = "completed"
        NO_SHOW = "no_show", "No-show"
        LATE_CANCEL = "late_cancel", "Late cancellation"
        EXPIRED = "expired", "Hold expired"

    event_type = models.ForeignKey(EventType, on_delete=models.PROTECT, related_name="bookings")
    # Copied from the event type so that the exclusion constraint covers the
    # coach's time across every event type.
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="coach_bookings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    start = models.DateTimeField()
    end = models.DateTimeField()
    # The call plus its buffers: what the coach's calendar cannot give twice.
    during = DateTimeRangeField()
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    name = models.CharField(max_length=150, blank=True)
    email = models.EmailField(blank=True)
    time_zone = models.CharField(max_length=64, help_text="The candidate's IANA zone.")
    answers = models.JSONField(default=dict, blank=True)
    policy = models.JSONField(default=dict, blank=True, help_text="Snapshot at booking time.")
    price_amount = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    payment_reference = models.CharField(max_length=200, blank=True)
    # A paid session's store order (bookings depends on the store, never the reverse).
    order = models.OneToOneField(
        "store.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="booking",
    )
    # The package a session credit was taken from, and when it went back.
    credit_grant = models.ForeignKey(
        "store.CreditGrant",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bookings",
    )
    credit_returned_at = models.DateTimeField(null=True, blank=True)
    # This booking's own video link, made when it is created (a room of its own
    # when the event type has a {room} template). Moving keeps it; cancelling
    # clears it, so the link is shown nowhere after a cancellation.
    meeting_url = models.CharField("meeting link", max_length=300, blank=True)
    reschedule_count = models.PositiveSmallIntegerField(default=0)
    sequence = models.PositiveIntegerField(default=0, help_text="ICS SEQUENCE.")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    from_waitlist = models.ForeignKey(
        "WaitlistEntry", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = BookingQuerySet.as_manager()

    # What takes the coach's time: a confirmed call, or a hold or an unpaid booking
    # whose time has not run out. The ORM form is `Booking.objects.blocking()`; the
    # same rule in SQL, over a booking aliased `b` with `blocking_sql_params(now)`, is
    # for the slot query (bookings/availability.py). tests/bookings/test_services.py
    # checks the two agree.
    HOLDING = (Status.HELD, Status.PENDING_PAYMENT)
    # Not (yet) a call: a hold, an unpaid booking, or one whose time ran out. The CRM
    # neither files such a booking on a timeline nor counts it.
    UNSETTLED = (Status.HELD, Status.PENDING_PAYMENT, Status.EXPIRED)
    # Calls that happened or were missed: what the coach's verdict is recorded on.
    SETTLED_OUTCOMES = (Status.COMPLETED, Status.NO_SHOW, Status.LATE_CANCEL)
    BLOCKING_SQL = (
        "(b.status = %(confirmed)s"
        " OR (b.status = ANY(%(holding)s) AND b.hold_expires_at > %(now)s))"
    )

    @classmethod
    def blocking_sql_params(cls, now: datetime) -> dict[str, Any]:
        return {"confirmed": cls.Status.CONFIRMED, "holding": list(cls.HOLDING), "now": now}

    class Meta:
        ordering = ["start"]
        indexes = [models.Index(fields=["status", "hold_expires_at"], name="booking_hold_idx")]
        constraints = [
            ExclusionConstraint(
                name="booking_no_double_booking",
                expressions=[
                    ("coach", RangeOperators.EQUAL),
                    ("during", RangeOperators.OVERLAPS),
                ],
                # An expired hold still matches here until it is released: the
                # booking service releases overlapping expired holds first, in
                # the same transaction, and a sweeper releases the rest.
                condition=models.Q(status__in=ACTIVE_STATUSES),
            ),
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="booking_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        # A moved booking holds the offset it was posted with until it is reloaded.
        return (
            f"{self.event_type} at {self.start.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({self.status})"
        )

    @property
    def ics_uid(self) -> str:
        return f"{self.uid}@bookings"

    @property
    def meeting_link(self) -> str:
        """The link to join, while the call is on (a held or unpaid time has none yet)."""
        if self.status in {self.Status.CONFIRMED, self.Status.COMPLETED}:
            return self.meeting_url
        return ""

    @property
    def location_label(self) -> str:
        """Where the call happens, as invitations and pages write it."""
        return self.meeting_link or self.event_type.location_label

    # --- State changes: one row, guarded on the current state ---------------

    def place(self, start: datetime) -> None:
        """Set the call's times and the coach's blocked range (call plus buffers)."""
        event_type = self.event_type
        self.start = start
        self.end = start + event_type.duration
        self.during = DateTimeTZRange(
            start - event_type.buffer_before, self.end + event_type.buffer_after, "[)"
        )

    # The two below change the state but do not save: the row claims coach time, so
    # the caller saves it where a concurrent claim can fail (services._save_taking_the_slot).

    def confirm(self, *, now: datetime | None = None) -> None:
        if self.status not in {self.Status.HELD, self.Status.PENDING_PAYMENT, self.Status.EXPIRED}:
            raise BookingStateError(f"A {self.status} booking cannot be confirmed.")
        self.status = self.Status.CONFIRMED
        self.hold_expires_at = None
        self.confirmed_at = now or timezone.now()

    def await_payment(self, *, until: datetime) -> None:
        if self.status not in {self.Status.HELD, self.Status.EXPIRED}:
            raise BookingStateError(f"A {self.status} booking cannot wait for payment.")
        self.status = self.Status.PENDING_PAYMENT
        self.hold_expires_at = until

    def cancel(self, *, late: bool = False, now: datetime | None = None) -> None:
        if self.status not in {
            self.Status.CONFIRMED,
            self.Status.PENDING_PAYMENT,
            self.Status.HELD,
        }:
            raise BookingStateError(f"A {self.status} booking cannot be cancelled.")
        self.status = self.Status.LATE_CANCEL if late else self.Status.CANCELLED
        self.cancelled_at = now or timezone.now()
        self.sequence += 1
        self.meeting_url = ""
        self.save(update_fields=["status", "cancelled_at", "sequence", "meeting_url", "updated_at"])

    def mark(self, status: str) -> None:
        """The coach's verdict after the call: completed, no-show or late cancellation."""
        allowed = {self.Status.COMPLETED, self.Status.NO_SHOW, self.Status.LATE_CANCEL}
        if status not in allowed:
            raise BookingStateError(f"{status} is not an outcome.")
        if self.status not in {self.Status.CONFIRMED, *allowed}:
            raise BookingStateError(f"A {self.status} booking has no outcome to mark.")
        self.status = status
        self.save(update_fields=["status", "updated_at"])

    def expire_hold(self) -> None:
        if self.status not in {self.Status.HELD, self.Status.PENDING_PAYMENT}:
            raise BookingStateError(f"A {self.status} booking holds nothing.")
        self.status = self.Status.EXPIRED
        self.save(update_fields=["status", "updated_at"])

    # --- Policy --------------------------------------------------------------

    def _policy_value(self, key: str) -> int:
        value: Any = (self.policy or {}).get(key)
        return int(value) if value is not None else int(self.event_type.policy()[key])

    def cancel_is_late(self, now: datetime | None = None) -> bool:
        cutoff = self.start - timedelta(hours=self._policy_value("cancel_cutoff_hours"))
        return (now or timezone.now()) > cutoff

    def reschedule_deadline(self) -> datetime:
        return self.start - timedelta(hours=self._policy_value("reschedule_cutoff_hours"))

    def cancel_deadline(self) -> datetime:
        return self.start - timedelta(hours=self._policy_value("cancel_cutoff_hours"))

    def reschedules_left(self) -> int:
        return max(0, self._policy_value("max_reschedules") - self.reschedule_count)

    def can_reschedule(self, now: datetime | None = None) -> bool:
        return (
            self.status == self.Status.CONFIRMED
            and self.reschedules_left() > 0
            and (now or timezone.now()) <= self.reschedule_deadline()
        )

    def can_cancel(self, now: datetime | None = None) -> bool:
        return (
            self.status in {self.Status.CONFIRMED, self.Status.PENDING_PAYMENT}
            and (now or timezone.now()) < self.start
        )


class BookingStateError(Exception):
    """A state change asked of a booking in the wrong state (the caller shows a message)."""


class BookingReminder(models.Model):
    """A due row that beat picks up; it re-checks the booking when it is sent."""

    class Kind(models.TextChoices):
        CANDIDATE = "candidate", "Reminder to the candidate"
        PREP_BRIEF = "prep_brief", "Prep brief to the coach"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        SKIPPED = "skipped"

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    offset_minutes = models.PositiveIntegerField()
    # The start time this reminder was made for: a moved booking no longer matches.
    for_start = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["due_at"], name="reminder_due_idx", condition=models.Q(status="pending")
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "kind", "offset_minutes", "for_start"], name="reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.offset_minutes} min before booking {self.booking_id}"


class WaitlistEntry(models.Model):
    """'Tell me if an earlier time opens': served first come, first served."""

    class Status(models.TextChoices):
        WAITING = "waiting"
        OFFERED = "offered"
        BOOKED = "booked"
        WITHDRAWN = "withdrawn"

    event_type = models.ForeignKey(EventType, on_delete=models.CASCADE, related_name="waitlist")
    name = models.CharField(max_length=150)
    email = models.EmailField()
    time_zone = models.CharField(max_length=64)
    earlier_than = models.DateTimeField(
        null=True, blank=True, help_text="Only times before this one are offered."
    )
    # Waiting for a seat in a full group session instead of an earlier time.
    group_session = models.ForeignKey(
        "bookings.GroupSession",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waitlist",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)
    offered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "waitlist entries"

    def __str__(self) -> str:
        return f"{self.email} waiting for {self.event_type}"


# --- The coach's own calendar ---------------------------------------------------

CALENDAR_URL_MESSAGE = "Use the calendar's http:// or https:// address (webcal:// works too)."


class BusyCalendar(models.Model):
    """A calendar of the coach's (an ICS address) whose events block slots.

    Beat fetches it in the background (bookings/busy.py); a page never does.
    Only the times of busy events are kept, never their titles or descriptions.
    """

    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="busy_calendars"
    )
    name = models.CharField(max_length=120, help_text="For you, e.g. 'Personal (Google)'.")
    url = models.URLField(
        "secret address",
        max_length=2000,
        validators=[URLValidator(schemes=["http", "https"], message=CALENDAR_URL_MESSAGE)],
        help_text="The calendar's secret iCal address. Anyone with it can read the calendar.",
    )
    is_active = models.BooleanField(default=True)
    last_fetched_at = models.DateTimeField(
        null=True, blank=True, help_text="The last time the calendar was read successfully."
    )
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # For conditional requests: the server answers 304 when nothing changed.
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # Recurring events are expanded up to here; a 304 is only trusted while
    # this still covers the booking horizon.
    expanded_until = models.DateTimeField(null=True, blank=True)
    events_imported = models.PositiveIntegerField(default=0)
    # Set while one worker fetches (a lease): a second refresh of the same feed skips.
    fetch_started_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = "busy calendar"

    def __str__(self) -> str:
        return self.name

    @property
    def masked_url(self) -> str:
        """Scheme and host only: enough to recognise, not enough to read the calendar."""
        scheme, _, rest = self.url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host}/…" if host else "…"

    # --- State changes: a lease, then one outcome that ends it ---------------

    def claim(self, *, now: datetime, lease: timedelta) -> bool:
        """Take the feed for one fetch unless another worker holds a lease that still runs."""
        taken = (
            BusyCalendar.objects.filter(pk=self.pk, is_active=True)
            .filter(
                models.Q(fetch_started_at__isnull=True) | models.Q(fetch_started_at__lt=now - lease)
            )
            .update(fetch_started_at=now)
        )
        if taken:
            self.fetch_started_at = now
        return bool(taken)

    def _end_lease(self, **fields: Any) -> bool:
        """Write an outcome only if this fetch still holds the lease (a slower one lost it)."""
        done = BusyCalendar.objects.filter(
            pk=self.pk, fetch_started_at=self.fetch_started_at
        ).update(fetch_started_at=None, **fields)
        for name, value in fields.items():
            setattr(self, name, value)
        self.fetch_started_at = None
        return bool(done)

    def record_import(
        self,
        *,
        now: datetime,
        count: int,
        etag: str,
        last_modified: str,
        expanded_until: datetime,
        note: str = "",
    ) -> bool:
        """A new set of busy times is in; `note` says what was left out, if anything."""
        return self._end_lease(
            last_fetched_at=now,
            last_error=note,
            last_error_at=now if note else None,
            events_imported=count,
            etag=etag[:300],
            last_modified=last_modified[:100],
            expanded_until=expanded_until,
        )

    def record_not_modified(self, *, now: datetime) -> bool:
        return self._end_lease(last_fetched_at=now, last_error="", last_error_at=None)

    def record_error(self, message: str, *, now: datetime) -> bool:
        return self._end_lease(last_error=message[:2000], last_error_at=now)

    def forget_cache_headers(self) -> None:
        """A new address is a new resource: the next fetch must not be conditional."""
        self.etag = ""
        self.last_modified = ""
        self.expanded_until = None


class BusyInterval(models.Model):
    """One busy occurrence from a coach's calendar: times only, nothing else of the event."""

    feed = models.ForeignKey(BusyCalendar, on_delete=models.CASCADE, related_name="intervals")
    uid = models.TextField(help_text="The event's UID in the coach's calendar.")
    # The occurrence's original start (RECURRENCE-ID) as 20250106T090000Z or
    # 20250106; empty for an event that does not repeat.
    recurrence_id = models.CharField(max_length=20, blank=True)
    during = DateTimeRangeField()

    class Meta:
        ordering = ["during"]
        indexes = [GistIndex(fields=["during"], name="busy_interval_during_gist")]
        constraints = [
            models.UniqueConstraint(
                fields=["feed", "uid", "recurrence_id"], name="busy_interval_once"
            )
        ]

    def __str__(self) -> str:
        return f"busy {self.during}"


# Group sessions live in their own module (this one is long enough); importing them
# here is how Django finds them.
from bookings.group_models import Cohort, GroupSession, Seat  # noqa: E402

__all__ = ["Cohort", "GroupSession", "Seat"]
