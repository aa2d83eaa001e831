"""Load an event type's rules and the coach's busy time, then ask `slots.compute_slots`."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import DateTimeField, F, Func, Q

from bookings.models import AvailabilityRule, Booking, BusyInterval, DateOverride, EventType
from bookings.slots import BadZone, Interval, Rules, Window, compute_slots, zone
from coaching.models import CoachProfile


def coach_zone_name() -> str:
    """The coach's IANA zone: the profile's, else the COACH_TIME_ZONE setting."""
    profile = CoachProfile.objects.only("time_zone").order_by("pk").first()
    name = profile.time_zone if profile and profile.time_zone else settings.COACH_TIME_ZONE
    try:
        zone(name)
    except BadZone:
        return str(settings.COACH_TIME_ZONE)
    return name


def rules_for(event_type: EventType, *, coach_zone: str | None = None) -> Rules:
    weekly: dict[int, list[Window]] = {}
    for weekday, rule_start, rule_end in AvailabilityRule.objects.filter(
        event_type=event_type
    ).values_list("weekday", "start_time", "end_time"):
        weekly.setdefault(weekday, []).append((rule_start, rule_end))
    overrides: dict[date, list[Window]] = {}
    rows = DateOverride.objects.filter(
        Q(event_type=event_type) | Q(event_type__isnull=True)
    ).values_list("date", "start_time", "end_time")
    for day, start, end in rows:
        windows = overrides.setdefault(day, [])
        if start is not None and end is not None:
            windows.append((start, end))
    return Rules(
        coach_zone=coach_zone or coach_zone_name(),
        weekly=weekly,
        overrides=overrides,
        duration=event_type.duration,
        buffer_before=event_type.buffer_before,
        buffer_after=event_type.buffer_after,
        increment=timedelta(minutes=max(1, event_type.start_increment_minutes)),
        notice=timedelta(minutes=event_type.minimum_notice_minutes),
        horizon=timedelta(days=event_type.horizon_days),
        daily_cap=event_type.daily_cap,
    )


def busy_for(
    event_type: EventType,
    rules: Rules,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude: Booking | None = None,
) -> tuple[list[Interval], dict[date, int]]:
    """The coach's blocked ranges near the window, and this type's bookings per local day.

    Blocked: other bookings (with their buffers) and the busy times imported from
    the coach's own calendars (bookings/busy.py; never fetched here).
    """
    margin = rules.buffer_before + rules.duration + rules.buffer_after + timedelta(days=1)
    near = DateTimeTZRange(start - margin, end + margin)
    rows = (
        Booking.objects.blocking(now)
        .filter(coach_id=event_type.coach_id, during__overlap=near)
        # The range's bounds as plain timestamps: psycopg parses those in C.
        .annotate(lo=Func(F("during"), function="lower", output_field=DateTimeField()))
        .annotate(hi=Func(F("during"), function="upper", output_field=DateTimeField()))
        .values_list("pk", "lo", "hi", "event_type_id", "start")
    )
    tz = zone(rules.coach_zone)
    busy: list[Interval] = []
    per_day: dict[date, int] = {}
    for pk, lo, hi, event_type_id, booking_start in rows:
        if exclude is not None and pk == exclude.pk:
            continue
        busy.append((lo, hi))
        if event_type_id == event_type.pk:
            local_day = booking_start.astimezone(tz).date()
            per_day[local_day] = per_day.get(local_day, 0) + 1
    imported = (
        BusyInterval.objects.filter(
            feed__coach_id=event_type.coach_id, feed__is_active=True, during__overlap=near
        )
        .annotate(lo=Func(F("during"), function="lower", output_field=DateTimeField()))
        .annotate(hi=Func(F("during"), function="upper", output_field=DateTimeField()))
        .values_list("lo", "hi")
    )
    busy.extend(imported)
    return busy, per_day


def slots_for(
    event_type: EventType,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude: Booking | None = None,
    coach_zone: str | None = None,
) -> list[datetime]:
    rules = rules_for(event_type, coach_zone=coach_zone)
    busy, per_day = busy_for(event_type, rules, start=start, end=end, now=now, exclude=exclude)
    return compute_slots(rules, start=start, end=end, now=now, busy=busy, booked_per_day=per_day)


def is_offered(
    event_type: EventType, instant: datetime, *, now: datetime, exclude: Booking | None = None
) -> bool:
    """Whether the rules offer this exact start (ignoring a race: the constraint decides that)."""
    offered = slots_for(
        event_type,
        start=instant,
        end=instant + timedelta(seconds=1),
        now=now,
        exclude=exclude,
    )
    return instant in offered
