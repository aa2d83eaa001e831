"""Property tests of the slot engine over rules, bookings and zones, across DST in both
hemispheres: no slot overlaps a booking or buffers, every slot lies inside availability
and honours notice and horizon, no local time is duplicated or skipped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bookings.slots import Rules, compute_slots, local_instant, window_bounds

ZONES = [
    "Europe/London", "Europe/Dublin", "America/New_York", "America/Santiago",
    "America/Sao_Paulo", "Australia/Sydney", "Australia/Lord_Howe", "Pacific/Auckland",
    "Pacific/Chatham", "Asia/Kolkata", "Asia/Tokyo", "UTC",
]  # fmt: skip
# Days near DST changes in both hemispheres (March/April, September/October/November).
PIVOTS = [
    datetime(2025, 3, 9, tzinfo=UTC), datetime(2025, 3, 30, tzinfo=UTC),
    datetime(2025, 4, 6, tzinfo=UTC), datetime(2025, 9, 7, tzinfo=UTC),
    datetime(2025, 9, 28, tzinfo=UTC), datetime(2025, 10, 5, tzinfo=UTC),
    datetime(2025, 10, 26, tzinfo=UTC), datetime(2025, 11, 2, tzinfo=UTC),
    datetime(2026, 6, 15, tzinfo=UTC),
]  # fmt: skip


@st.composite
def windows(draw: st.DrawFn) -> list[tuple[time, time]]:
    count = draw(st.integers(0, 2))
    result = []
    for _ in range(count):
        # Quarter hours, so windows often sit on 01:00-03:00 where DST changes happen.
        a = draw(st.integers(0, 95))
        b = draw(st.integers(a + 1, 96))
        end = time(23, 59) if b == 96 else time(b // 4, (b % 4) * 15)
        result.append((time(a // 4, (a % 4) * 15), end))
    return result


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Rules, datetime, datetime, datetime, list]:
    coach_zone = draw(st.sampled_from(ZONES))
    weekly = {day: draw(windows()) for day in range(7)}
    now = draw(st.sampled_from(PIVOTS)) + timedelta(minutes=draw(st.integers(-5000, 5000)))
    overrides: dict[date, list[tuple[time, time]]] = {}
    for _ in range(draw(st.integers(0, 3))):
        day = (now + timedelta(days=draw(st.integers(0, 20)))).date()
        overrides[day] = draw(windows())
    rules = Rules(
        coach_zone=coach_zone,
        weekly=weekly,
        overrides=overrides,
        duration=timedelta(minutes=draw(st.integers(5, 120))),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 5, 10, 15, 30]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 5, 10, 15, 30]))),
        increment=timedelta(minutes=draw(st.sampled_from([5, 10, 15, 20, 30, 45, 60]))),
        notice=timedelta(minutes=draw(st.integers(0, 3 * 24 * 60))),
        horizon=timedelta(days=draw(st.integers(1, 70))),
        daily_cap=None,
    )
    start = now + timedelta(hours=draw(st.integers(-48, 24 * 10)))
    end = start + timedelta(days=draw(st.integers(1, 21)))
    busy = []
    for _ in range(draw(st.integers(0, 12))):
        a = start + timedelta(minutes=draw(st.integers(-600, 21 * 24 * 60)))
        busy.append((a, a + timedelta(minutes=draw(st.integers(5, 240)))))
    return rules, now, start, end, busy


def offered_windows(rules: Rules, day: date) -> list[tuple[time, time]]:
    found = rules.overrides.get(day)
    return list(found if found is not None else rules.weekly.get(day.weekday(), []))


def first_instant(naive: datetime, tz: ZoneInfo) -> datetime | None:
    """Oracle: the earliest real instant showing this wall time, None if it never shows."""
    found = [
        dt.astimezone(UTC)
        for dt in (naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1))
        if dt.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive
    ]
    return min(found) if found else None


def expected_slots(rules: Rules, now: datetime, start: datetime, end: datetime, busy: list):
    """A slow, independent oracle: walk every day's grid and apply every rule."""
    tz = ZoneInfo(rules.coach_zone)
    expected = set()
    day = start.astimezone(tz).date() - timedelta(days=2)
    while day <= end.astimezone(tz).date() + timedelta(days=2):
        for window in offered_windows(rules, day):
            lo, hi = window_bounds(day, window, tz)
            wall = datetime.combine(day, window[0])
            while wall < datetime.combine(day, window[1]):
                instant = first_instant(wall, tz)
                wall += rules.increment
                if instant is None or instant < lo or instant + rules.duration > hi:
                    continue
                if not (max(start, now + rules.notice) <= instant < min(end, now + rules.horizon)):
                    continue
                padded = (
                    instant - rules.buffer_before,
                    instant + rules.duration + rules.buffer_after,
                )
                if any(a < padded[1] and b > padded[0] for a, b in busy):
                    continue
                expected.add(instant)
        day += timedelta(days=1)
    return sorted(expected)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_slots_respect_availability_bookings_notice_and_horizon(scenario) -> None:
    rules, now, start, end, busy = scenario
    tz = ZoneInfo(rules.coach_zone)
    slots = compute_slots(rules, start=start, end=end, now=now, busy=busy)

    assert slots == sorted(set(slots)), "sorted, each instant once"
    for slot in slots:
        assert slot >= now + rules.notice and slot < now + rules.horizon
        assert start <= slot < end
        lo, hi = slot - rules.buffer_before, slot + rules.duration + rules.buffer_after
        assert not any(a < hi and b > lo for a, b in busy), "overlaps a booking or its buffers"
        local = slot.astimezone(tz)
        inside = [
            w for w in offered_windows(rules, local.date())
            if window_bounds(local.date(), w, tz)[0] <= slot
            and slot + rules.duration <= window_bounds(local.date(), w, tz)[1]
        ]  # fmt: skip
        assert inside, "outside availability"
    walls = [s.astimezone(tz).replace(tzinfo=None) for s in slots]
    assert len(walls) == len(set(walls)), "a local time offered twice"
    assert slots == expected_slots(rules, now, start, end, busy), "a local time skipped"


@pytest.mark.parametrize(
    ("zone", "before", "after"),
    [
        ("Europe/London", date(2025, 3, 28), date(2025, 3, 31)),  # spring forward, north
        ("Europe/London", date(2025, 10, 24), date(2025, 10, 27)),  # fall back, north
        ("Australia/Sydney", date(2025, 4, 4), date(2025, 4, 7)),  # fall back, south
        ("Australia/Sydney", date(2025, 10, 3), date(2025, 10, 6)),  # spring forward, south
    ],
)
def test_nine_oclock_stays_nine_oclock_across_a_dst_change(
    zone: str, before: date, after: date
) -> None:
    rules = Rules(coach_zone=zone, weekly={d: [(time(9), time(17))] for d in range(7)})
    now = datetime.combine(before, time(0), tzinfo=UTC) - timedelta(days=1)
    slots = compute_slots(rules, start=now, end=now + timedelta(days=6), now=now)
    tz = ZoneInfo(zone)
    for day in (before, after):
        local = [s.astimezone(tz) for s in slots if s.astimezone(tz).date() == day]
        assert [f"{s:%H:%M}" for s in local][:2] == ["09:00", "09:30"]
        assert len(local) == 16
    offsets = {s.astimezone(tz).utcoffset() for s in slots}
    assert len(offsets) == 2, "the UTC instants moved with the clocks"


def test_a_window_across_the_spring_gap_skips_the_missing_hour() -> None:
    tz = ZoneInfo("Europe/London")
    day = date(2025, 3, 30)  # 01:00 -> 02:00
    rules = Rules(coach_zone="Europe/London", weekly={6: [(time(0), time(4))]})
    now = datetime(2025, 3, 29, tzinfo=UTC)
    slots = compute_slots(rules, start=now, end=now + timedelta(days=2), now=now)
    walls = [f"{s.astimezone(tz):%H:%M}" for s in slots]
    assert walls == ["00:00", "00:30", "02:00", "02:30", "03:00", "03:30"]
    assert local_instant(day, time(1, 30), tz) is None


def test_a_window_across_the_autumn_overlap_offers_each_local_time_once() -> None:
    tz = ZoneInfo("Europe/London")
    rules = Rules(coach_zone="Europe/London", weekly={6: [(time(0), time(3))]})
    now = datetime(2025, 10, 25, tzinfo=UTC)
    slots = compute_slots(rules, start=now, end=now + timedelta(days=2), now=now)
    walls = [f"{s.astimezone(tz):%H:%M}" for s in slots]
    assert walls == ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]


def test_the_daily_cap_closes_a_full_day() -> None:
    rules = Rules(
        coach_zone="UTC", weekly={d: [(time(9), time(12))] for d in range(7)}, daily_cap=2
    )
    now = datetime(2030, 1, 1, tzinfo=UTC)
    slots = compute_slots(
        rules, start=now, end=now + timedelta(days=2), now=now,
        booked_per_day={date(2030, 1, 1): 2},
    )  # fmt: skip
    assert {s.date() for s in slots} == {date(2030, 1, 2)}
