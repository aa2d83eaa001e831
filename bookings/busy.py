"""Busy times from the coach's own calendar: fetch an ICS address, expand it, keep times only.

Beat refreshes every active calendar in the background (`tasks.refresh_busy_calendars`);
a page request never fetches. A refresh is all or nothing: a network error, an HTTP
error or a file that is not a calendar keeps the previous busy times and records the
error, so a calendar server's bad minute never opens the coach's diary to bookings.

What counts as busy: every event except those marked free (TRANSP:TRANSPARENT, or
Outlook's busy status FREE) and cancelled ones. An all-day event blocks the whole day
in the coach's zone; a floating time (no zone) is read in the coach's zone too.
Repeating events (RRULE, RDATE, EXDATE, and occurrences moved or cancelled through
RECURRENCE-ID) are expanded with dateutil over the booking horizon, in the wall
clock of the event's own zone so that a weekly 09:00 stays 09:00 across DST.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import time as monotonic_clock
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlsplit

from dateutil.rrule import rrulestr
from django.db import transaction
from django.db.backends.postgresql.psycopg_any import DateTimeTZRange
from django.db.models import DateTimeField, F, Func, Max
from django.utils import timezone
from icalendar import Calendar, Component, vRecur

from bookings.availability import coach_zone_name
from bookings.models import (
    CALENDAR_URL_MESSAGE,
    Booking,
    BusyCalendar,
    BusyInterval,
    EventType,
)
from bookings.slots import zone
from coaching import outbound

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
SOCKET_TIMEOUT = 15  # seconds for one connect or read
DEADLINE = 30.0  # seconds for the whole download: a server trickling bytes cannot hold a worker
# Longer than a download plus parsing, so a live fetch never loses its lease;
# short enough that a killed worker's lease frees the feed for the next beat.
LEASE = timedelta(minutes=5)
MAX_HORIZON_DAYS = 400
DEFAULT_HORIZON_DAYS = 60
# Expanding a week past the horizon lets a 304 stand in for a full download
# for about a week before the expansion has to move on.
SLACK = timedelta(days=7)
MAX_INTERVALS = 20_000
MAX_STEPS = 200_000  # occurrences walked for one rule (an hourly rule since 2000 is too many)
USER_AGENT = "coaching-busy-calendar/1.0"
HTTP_SCHEMES = {"http", "https"}
OWN_UID_SUFFIX = "@bookings"  # Booking.ics_uid


class FeedError(Exception):
    """Why a refresh failed, in words the coach can act on (kept in `last_error`)."""


@dataclass(frozen=True)
class Fetched:
    body: bytes | None  # None: 304 Not Modified
    etag: str = ""
    last_modified: str = ""


@dataclass(frozen=True)
class BusyTime:
    uid: str
    recurrence_id: str
    start: datetime
    end: datetime


# --- Fetching --------------------------------------------------------------------


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib would also follow one to ftp)."""

    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> Any:
        if urlsplit(newurl).scheme.lower() not in HTTP_SCHEMES:
            raise FeedError("The calendar address redirects to an address that is not http(s).")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_ics(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """GET the calendar with a timeout and a size limit; a 304 comes back with no body.

    Error messages never repeat the address: it is a secret.
    """
    if urlsplit(url).scheme.lower() not in HTTP_SCHEMES:
        raise FeedError(CALENDAR_URL_MESSAGE)
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    opener = outbound.public_opener(_HttpOnlyRedirects())
    started = monotonic_clock.monotonic()
    try:
        with opener.open(request, timeout=SOCKET_TIMEOUT) as response:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_BYTES:
                raise FeedError(_too_large())
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read(64 * 1024):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FeedError(_too_large())
                if monotonic_clock.monotonic() - started > DEADLINE:
                    raise FeedError(f"The calendar took longer than {DEADLINE:.0f} s to download.")
                chunks.append(chunk)
            return Fetched(
                b"".join(chunks),
                etag=response.headers.get("ETag", ""),
                last_modified=response.headers.get("Last-Modified", ""),
            )
    except urllib.error.HTTPError as error:
        error.close()
        if error.code == 304:
            return Fetched(None, etag=etag, last_modified=last_modified)
        raise FeedError(f"The calendar server answered HTTP {error.code} {error.reason}.") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, outbound.BlockedAddress):
            raise FeedError(str(error.reason)) from None
        raise FeedError(f"Could not reach the calendar server: {error.reason}.") from None
    except outbound.BlockedAddress as error:  # raised on a redirect's new connection
        raise FeedError(str(error)) from None
    except TimeoutError:
        raise FeedError("The calendar server did not answer in time.") from None
    except (OSError, http.client.HTTPException) as error:
        raise FeedError(f"The download broke off: {type(error).__name__}.") from None
    except ValueError:
        raise FeedError("The calendar address is not a valid URL.") from None


def _too_large() -> str:
    return f"The calendar is larger than {MAX_BYTES // (1024 * 1024)} MB."


# --- Reading: ICS text -> busy occurrences (no database) --------------------------

Moment = date | datetime


def busy_times(
    body: bytes, *, start: datetime, end: datetime, coach_zone: str
) -> tuple[list[BusyTime], int]:
    """The busy occurrences overlapping [start, end), and how many events could not be read.

    One unreadable event is left out (and counted) rather than failing the whole
    calendar; a file that is not a calendar at all raises FeedError.
    """
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if not text[:15].upper().startswith("BEGIN:VCALENDAR"):
        raise FeedError(
            "The address did not return a calendar file: is it the calendar's secret iCal address?"
        )
    try:
        calendar = Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError, TypeError):
        # The parser's message quotes the file, which may hold private event details.
        raise FeedError("The calendar file is malformed and could not be read.") from None
    reader = _Reader(lo=start, hi=end, coach_tz=zone(coach_zone))
    masters: dict[str, Component] = {}
    overrides: dict[str, list[Component]] = {}
    for index, event in enumerate(calendar.walk("VEVENT")):
        uid = str(event.get("UID", "")).strip() or f"no-uid-{index}"
        if "RECURRENCE-ID" in event:
            overrides.setdefault(uid, []).append(event)
        else:
            masters.setdefault(uid, event)  # a repeated UID: the first one wins
    for uid in sorted({*masters, *overrides}):
        reader.read_series(uid, masters.get(uid), overrides.get(uid, []))
    found = sorted(reader.found.values(), key=lambda item: (item.start, item.uid))
    return found, reader.skipped


# Errors a broken event can raise from icalendar or dateutil; any of them skips that event.
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


@dataclass
class _Reader:
    lo: datetime
    hi: datetime
    coach_tz: tzinfo

    def __post_init__(self) -> None:
        self.found: dict[tuple[str, str], BusyTime] = {}
        self.skipped = 0

    def read_series(self, uid: str, master: Component | None, overrides: list[Component]) -> None:
        series_tz = self.coach_tz
        master_length: timedelta | None = None
        if master is not None:
            try:
                master_start = _value(master, "DTSTART")
                series_tz = _zone_of(master_start) or self.coach_tz
                master_length = _length(master, master_start, self.coach_tz)
            except _UNREADABLE:
                master = None
                self.skipped += 1
        moved: set[str] = set()
        for override in overrides:
            try:
                original = _value(override, "RECURRENCE-ID")
                key = _key(original, series_tz)
                moved.add(key)
                if not _is_busy(override):
                    continue
                begin = _value(override, "DTSTART", default=original)
                length = _length(override, begin, self.coach_tz, fallback=master_length)
                self._add(uid, key, begin, length)
            except _UNREADABLE:
                self.skipped += 1
        if master is None or master_length is None or not _is_busy(master):
            return
        try:
            for original in self._occurrences(master, master_length, series_tz, moved):
                key = _key(original, series_tz) if _repeats(master) else ""
                self._add(uid, key, original, master_length)
        except _UNREADABLE:
            self.skipped += 1

    def _add(self, uid: str, key: str, begin: Moment, length: timedelta) -> None:
        start = _absolute(begin, self.coach_tz)
        if isinstance(begin, datetime):
            end = start + length
        else:  # all day: the end is a later midnight in the coach's zone, whatever DST does
            end = _absolute(begin + timedelta(days=length.days), self.coach_tz)
        if end <= start or start >= self.hi or end <= self.lo:
            return
        if len(self.found) >= MAX_INTERVALS:
            raise FeedError(
                f"The calendar has more than {MAX_INTERVALS} busy times within the booking "
                "horizon: use a calendar with fewer events."
            )
        self.found.setdefault((uid, key), BusyTime(uid, key, start, end))

    def _occurrences(
        self, master: Component, length: timedelta, series_tz: tzinfo, moved: set[str]
    ) -> Iterator[Moment]:
        """The series' original starts near the window, less EXDATEs and moved ones."""
        first: Moment = _value(master, "DTSTART")
        if not _repeats(master):
            yield first
            return
        all_day = not isinstance(first, datetime)
        aware_tz = first.tzinfo if isinstance(first, datetime) else None
        # Walk the rule on the event's own wall clock (naive), then put the zone back.
        anchor = first.replace(tzinfo=None) if isinstance(first, datetime) else _midnight(first)
        clock = aware_tz or self.coach_tz
        walk_from = (self.lo - length - timedelta(days=1)).astimezone(clock).replace(tzinfo=None)
        walk_to = (self.hi + timedelta(days=1)).astimezone(clock).replace(tzinfo=None)
        excluded = {_key(value, series_tz) for value in _values(master, "EXDATE")}
        starts: list[Moment] = []
        for recur in _recurs(master):
            rule = rrulestr(_rule_text(recur, clock), dtstart=anchor)
            for steps, wall in enumerate(rule):
                if wall > walk_to:
                    break
                if steps > MAX_STEPS:
                    raise ValueError("too many occurrences to walk")
                if wall >= walk_from:
                    starts.append(wall.date() if all_day else wall.replace(tzinfo=aware_tz))
        # DTSTART is the first occurrence even when the rule would not produce it.
        starts.append(first)
        starts.extend(_values(master, "RDATE"))
        seen: set[str] = set()
        for start in starts:
            key = _key(start, series_tz)
            day_key = _key(start.date(), series_tz) if isinstance(start, datetime) else key
            if key in seen or key in moved or key in excluded or day_key in excluded:
                continue
            seen.add(key)
            yield start


def _value(component: Component, name: str, default: Any = None) -> Any:
    prop = component.get(name)
    if prop is None:
        if default is None:
            raise ValueError(f"{name} is missing")
        return default
    if isinstance(prop, list):
        prop = prop[0]
    return prop.dt


def _values(component: Component, name: str) -> list[Moment]:
    """Every date in a repeatable list property (EXDATE, RDATE); a period counts by its start."""
    props = component.get(name, [])
    moments: list[Moment] = []
    for prop in props if isinstance(props, list) else [props]:
        for item in prop.dts:
            value = item.dt
            moments.append(value[0] if isinstance(value, tuple) else value)
    return moments


def _recurs(component: Component) -> list[vRecur]:
    rules = component.get("RRULE", [])
    return rules if isinstance(rules, list) else [rules]


def _repeats(component: Component) -> bool:
    return "RRULE" in component or "RDATE" in component


def _length(
    component: Component, start: Moment, coach_tz: tzinfo, fallback: timedelta | None = None
) -> timedelta:
    """DTEND - DTSTART, else DURATION, else the master's length, else a day or nothing."""
    if "DTEND" in component:
        end = _value(component, "DTEND")
        if isinstance(start, datetime) or isinstance(end, datetime):
            return _absolute(end, coach_tz) - _absolute(start, coach_tz)
        return timedelta(days=(end - start).days)
    if "DURATION" in component:
        duration = _value(component, "DURATION")
        if not isinstance(duration, timedelta):
            raise TypeError("DURATION is not a duration")
        return duration
    if fallback is not None:
        return fallback
    return timedelta(0) if isinstance(start, datetime) else timedelta(days=1)


def _is_busy(component: Component) -> bool:
    transparent = str(component.get("TRANSP", "")).upper() == "TRANSPARENT"
    cancelled = str(component.get("STATUS", "")).upper() == "CANCELLED"
    free = str(component.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "FREE"
    return not (transparent or cancelled or free)


def _zone_of(value: Moment) -> tzinfo | None:
    return value.tzinfo if isinstance(value, datetime) else None


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0))


def _absolute(value: Moment, coach_tz: tzinfo) -> datetime:
    """UTC; a date is midnight in the coach's zone, a floating time is the coach's wall clock."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=coach_tz)
        return aware.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=coach_tz).astimezone(UTC)


def _key(value: Moment, series_tz: tzinfo) -> str:
    """An occurrence's identity: its original start as UTC (20250106T090000Z) or a date."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=series_tz)
        return aware.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def _rule_text(recur: vRecur, clock: tzinfo) -> str:
    """The RRULE for a naive walk: UNTIL moved onto the same wall clock as DTSTART.

    dateutil refuses a UTC UNTIL next to a naive DTSTART; and an UNTIL given as a
    date on a timed event still includes that day's occurrence.
    """
    rule = vRecur(recur)
    until = rule.get("UNTIL")
    if until:
        value = until[0] if isinstance(until, list) else until
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(clock).replace(tzinfo=None)
        else:
            value = datetime.combine(value, time(23, 59, 59))
        rule["UNTIL"] = [value]
    return rule.to_ical().decode()


# --- Refreshing one calendar --------------------------------------------------------


def expansion_window(feed: BusyCalendar, *, now: datetime) -> tuple[datetime, datetime, datetime]:
    """(from, to, needed): busy times are kept for [from, to); a 304 is trusted while
    the last expansion reaches `needed`, the end of the longest booking horizon."""
    horizon = EventType.objects.filter(coach_id=feed.coach_id, is_active=True).aggregate(
        days=Max("horizon_days")
    )["days"]
    days = min((horizon or DEFAULT_HORIZON_DAYS) + 1, MAX_HORIZON_DAYS)
    needed = now + timedelta(days=days)
    return now - timedelta(days=1), needed + SLACK, needed


def refresh_busy_calendar(*, feed: BusyCalendar, now: datetime | None = None) -> str:
    """Fetch one calendar and replace its busy times, all or nothing. Safe to run twice.

    Answers "imported", "not_modified", "failed", or "skipped" when the calendar is
    inactive or another worker is fetching it.
    """
    now = now or timezone.now()
    if not feed.claim(now=now, lease=LEASE):
        return "skipped"
    start, end, needed = expansion_window(feed, now=now)
    conditional = feed.expanded_until is not None and feed.expanded_until >= needed
    try:
        fetched = fetch_ics(
            feed.url,
            etag=feed.etag if conditional else "",
            last_modified=feed.last_modified if conditional else "",
        )
        if fetched.body is None:
            feed.record_not_modified(now=now)
            return "not_modified"
        found, skipped = busy_times(
            fetched.body, start=start, end=end, coach_zone=coach_zone_name()
        )
    except FeedError as error:
        log.info("busy calendar %s: %s", feed.pk, error)
        feed.record_error(str(error), now=now)
        return "failed"
    except Exception:
        feed.record_error("Reading the calendar failed unexpectedly; see the worker log.", now=now)
        raise
    found = _without_own_bookings(found)
    note = f"{skipped} event(s) could not be read and were left out." if skipped else ""
    with transaction.atomic():
        held = (
            BusyCalendar.objects.select_for_update()
            .filter(pk=feed.pk, fetch_started_at=feed.fetch_started_at)
            .exists()
        )
        if not held:
            return "skipped"  # the lease ran out and a newer fetch owns the calendar
        _replace_intervals(feed, found)
        feed.record_import(
            now=now,
            count=len(found),
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            expanded_until=end,
            note=note,
        )
    return "imported"


def _without_own_bookings(found: list[BusyTime]) -> list[BusyTime]:
    """Leave out the coach's copies of our own invitations (same UID as the booking).

    The bookings table already holds those times, with their buffers; a copy would
    keep blocking after a cancellation that the coach's calendar never applied.
    """
    candidates: set[uuid.UUID] = set()
    for item in found:
        if item.uid.endswith(OWN_UID_SUFFIX):
            with contextlib.suppress(ValueError):
                candidates.add(uuid.UUID(item.uid.removesuffix(OWN_UID_SUFFIX)))
    if not candidates:
        return found
    own = {
        f"{value}{OWN_UID_SUFFIX}"
        for value in Booking.objects.filter(uid__in=candidates).values_list("uid", flat=True)
    }
    return [item for item in found if item.uid not in own]


def _replace_intervals(feed: BusyCalendar, found: list[BusyTime]) -> None:
    """Delete what went away and insert what is new: an unchanged calendar writes nothing."""
    wanted = {(item.uid, item.recurrence_id, item.start, item.end): item for item in found}
    stale: list[int] = []
    kept: set[tuple[str, str, datetime, datetime]] = set()
    rows = (
        BusyInterval.objects.filter(feed=feed)
        .annotate(lo=Func(F("during"), function="lower", output_field=DateTimeField()))
        .annotate(hi=Func(F("during"), function="upper", output_field=DateTimeField()))
        .values_list("pk", "uid", "recurrence_id", "lo", "hi")
    )
    for pk, uid, recurrence_id, lo, hi in rows:
        if (uid, recurrence_id, lo, hi) in wanted:
            kept.add((uid, recurrence_id, lo, hi))
        else:
            stale.append(pk)
    BusyInterval.objects.filter(pk__in=stale).delete()
    BusyInterval.objects.bulk_create(
        [
            BusyInterval(
                feed=feed,
                uid=item.uid,
                recurrence_id=item.recurrence_id,
                during=DateTimeTZRange(item.start, item.end, "[)"),
            )
            for key, item in wanted.items()
            if key not in kept
        ],
        batch_size=2000,
    )
