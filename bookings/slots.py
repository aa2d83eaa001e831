"""Free slots: weekly wall-clock rules in the coach's zone -> UTC instants.

`compute_slots` is a pure function (no database) so that property tests can
throw any rules, bookings and zones at it. `slots_for` loads what it needs in a
handful of queries and calls it. One request covers up to 62 days.

DST: each candidate start is a wall-clock time on the coach's day. A time that
does not exist that day (the spring-forward gap) is skipped; a time that exists
twice (fall back) is offered once, at its first occurrence. Durations are real
elapsed time, so a slot never ends after its window's real end.
"""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MAX_RANGE_DAYS = 62

Window = tuple[time, time]
Interval = tuple[datetime, datetime]


class BadZone(ValueError):
    pass


@functools.lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """An IANA zone by name, or BadZone (never a file path, never a 500)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        raise BadZone(f"{name!r} is not a time zone.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise BadZone(f"{name!r} is not a time zone.") from None


@functools.lru_cache(maxsize=1)
def zone_names() -> list[str]:
    """Zones to offer in a picker: the canonical Area/City names."""
    return sorted(
        name
        for name in available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/", "posix", "right"))
    ) + ["UTC"]


@dataclass(frozen=True)
class Rules:
    """What one event type offers, all in the coach's zone."""

    coach_zone: str
    weekly: Mapping[int, Sequence[Window]]
    overrides: Mapping[date, Sequence[Window]] = field(default_factory=dict)  # [] = day off
    duration: timedelta = timedelta(minutes=30)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    increment: timedelta = timedelta(minutes=30)
    notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    daily_cap: int | None = None


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime | None:
    """The UTC instant of a wall-clock time on a day, or None if that time does not exist."""
    naive = datetime.combine(day, wall)
    aware = naive.replace(tzinfo=tz, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != naive:
        return None  # in the spring-forward gap
    return instant


def window_bounds(day: date, window: Window, tz: ZoneInfo) -> Interval:
    """A window's real start and end; an edge in a DST gap moves to the gap's end."""
    start = datetime.combine(day, window[0]).replace(tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day, window[1]).replace(tzinfo=tz).astimezone(UTC)
    return start, end


def candidate_starts(day: date, rules: Rules, tz: ZoneInfo) -> Iterable[datetime]:
    windows = rules.overrides.get(day)
    if windows is None:
        windows = rules.weekly.get(day.weekday(), ())
    step = rules.increment
    for window in windows:
        lo, hi = window_bounds(day, window, tz)
        first = datetime.combine(day, window[0])
        last = datetime.combine(day, window[1])
        # Fast path: no clock change inside the window, so wall time and UTC move together.
        if lo.astimezone(tz).utcoffset() == hi.astimezone(tz).utcoffset() and local_instant(
            day, window[0], tz
        ):
            instant = lo
            while instant + rules.duration <= hi:
                yield instant
                instant += step
            continue
        wall = first
        seen: set[datetime] = set()
        while wall < last:
            found = local_instant(day, wall.time(), tz)
            if found is not None and found not in seen:
                seen.add(found)
                if lo <= found and found + rules.duration <= hi:
                    yield found
            wall += step


def compute_slots(
    rules: Rules,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    busy: Sequence[Interval] = (),
    booked_per_day: dict[date, int] | None = None,
) -> list[datetime]:
    """Sorted UTC starts of free slots with start <= s < end.

    `busy` holds other bookings' blocked ranges (their call plus their buffers);
    a slot is free when its own call plus buffers overlaps none of them.
    `booked_per_day` counts this event type's bookings per coach-local date for
    the daily cap.
    """
    tz = zone(rules.coach_zone)
    earliest = max(start, now + rules.notice)
    latest = min(end, now + rules.horizon)
    if earliest >= latest:
        return []
    busy_sorted = sorted(busy)
    busy_starts = [interval[0] for interval in busy_sorted]
    # The longest busy range bounds how far back an overlapping one can start.
    longest = max((b - a for a, b in busy_sorted), default=timedelta(0))
    booked_per_day = booked_per_day or {}
    cap = rules.daily_cap
    padded = rules.buffer_before + rules.duration + rules.buffer_after

    first_day = earliest.astimezone(tz).date() - timedelta(days=1)
    last_day = latest.astimezone(tz).date() + timedelta(days=1)
    slots: list[datetime] = []
    day = first_day
    while day <= last_day:
        if cap is not None and booked_per_day.get(day, 0) >= cap:
            day += timedelta(days=1)
            continue
        for instant in candidate_starts(day, rules, tz):
            if instant < earliest or instant >= latest:
                continue
            lo = instant - rules.buffer_before
            hi = lo + padded
            if _overlaps(lo, hi, busy_sorted, busy_starts, longest):
                continue
            slots.append(instant)
        day += timedelta(days=1)
    slots.sort()
    # Two windows of one day may overlap in the rules: offer each instant once.
    return [s for i, s in enumerate(slots) if i == 0 or s != slots[i - 1]]


def _overlaps(
    lo: datetime,
    hi: datetime,
    busy: Sequence[Interval],
    busy_starts: Sequence[datetime],
    longest: timedelta,
) -> bool:
    # Candidates are the busy ranges starting before `hi` and not before `lo - longest`.
    index = bisect_left(busy_starts, lo - longest)
    while index < len(busy) and busy[index][0] < hi:
        if busy[index][1] > lo:
            return True
        index += 1
    return False
