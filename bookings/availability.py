"""Load an event type's rules and the coach's busy time, then ask `slots.compute_slots`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection

from bookings.models import (
    AvailabilityRule,
    Booking,
    BusyCalendar,
    BusyInterval,
    DateOverride,
    EventType,
)
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


# Weekly hours and dated overrides (this type's and the coach's days off) in one
# statement: two ORM queries cost more than the rest of building the rules.
RULES_SQL = f"""
SELECT weekday, NULL::date, start_time, end_time
  FROM {AvailabilityRule._meta.db_table} WHERE event_type_id = %(event_type)s
UNION ALL
SELECT NULL, date, start_time, end_time
  FROM {DateOverride._meta.db_table}
 WHERE event_type_id = %(event_type)s OR event_type_id IS NULL
"""  # noqa: S608 - table names from the models, values as parameters


def rules_for(event_type: EventType, *, coach_zone: str | None = None) -> Rules:
    weekly: dict[int, list[Window]] = {}
    overrides: dict[date, list[Window]] = {}
    with connection.cursor() as cursor:
        cursor.execute(RULES_SQL, {"event_type": event_type.pk})
        rows = cursor.fetchall()
    for weekday, day, start, end in rows:
        if day is None:
            weekly.setdefault(weekday, []).append((start, end))
            continue
        windows = overrides.setdefault(day, [])  # no hours: a day off
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


# The coach's blocked time near a window: other bookings (the rule is
# `Booking.BLOCKING_SQL`, the SQL twin of `BookingQuerySet.blocking`) and the busy
# times imported from the coach's own calendars (bookings/busy.py; never fetched
# here). One statement, instants as epoch seconds: through the ORM, building the
# rows was a large share of a 60-day slot list (`make bench ARGS=bookings_slots`).
BUSY_SQL = f"""
SELECT extract(epoch FROM lower(b.during))::float8, extract(epoch FROM upper(b.during))::float8,
       b.event_type_id, extract(epoch FROM b.start)::float8
  FROM {Booking._meta.db_table} b
 WHERE b.coach_id = %(coach)s AND b.during && tstzrange(%(lo)s, %(hi)s)
   AND {Booking.BLOCKING_SQL}
   AND b.id <> %(exclude)s
UNION ALL
SELECT extract(epoch FROM lower(i.during))::float8, extract(epoch FROM upper(i.during))::float8,
       NULL, NULL
  FROM {BusyInterval._meta.db_table} i JOIN {BusyCalendar._meta.db_table} f ON f.id = i.feed_id
 WHERE f.coach_id = %(coach)s AND f.is_active AND i.during && tstzrange(%(lo)s, %(hi)s)
"""  # noqa: S608 - table names from the models, values as parameters


def busy_for(
    event_type: EventType,
    rules: Rules,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    exclude: Booking | None = None,
) -> tuple[list[Interval], dict[date, int]]:
    """The coach's blocked ranges near the window, and this type's bookings per local day."""
    margin = rules.buffer_before + rules.duration + rules.buffer_after + timedelta(days=1)
    with connection.cursor() as cursor:
        cursor.execute(
            BUSY_SQL,
            {
                "coach": event_type.coach_id,
                "lo": start - margin,
                "hi": end + margin,
                **Booking.blocking_sql_params(now),
                "exclude": exclude.pk if exclude is not None and exclude.pk else 0,
            },
        )
        rows = cursor.fetchall()
    tz = zone(rules.coach_zone)
    instant = datetime.fromtimestamp
    busy: list[Interval] = []
    per_day: dict[date, int] = {}
    for lo, hi, event_type_id, booking_start in rows:
        busy.append((instant(lo, UTC), instant(hi, UTC)))
        if event_type_id == event_type.pk:
            local_day = instant(booking_start, tz).date()
            per_day[local_day] = per_day.get(local_day, 0) + 1
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
