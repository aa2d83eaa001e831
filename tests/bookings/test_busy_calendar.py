"""Busy times from the coach's own calendar: an ICS address read in the background.

The calendars are served by a real HTTP server on 127.0.0.1 (this machine, not a mock).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from bookings import busy, services, tasks
from bookings.availability import slots_for
from bookings.models import Booking, BusyCalendar, BusyInterval
from coaching.launcher import free_port
from tests.bookings.factories import LONDON, london, next_weekday

pytestmark = pytest.mark.django_db


# --- A calendar server on this machine --------------------------------------------


@dataclass
class CalendarServer:
    port: int
    # path -> (status, body, ETag or "")
    files: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def serve(self, path: str, body: bytes | str, *, status: int = 200, etag: str = "") -> str:
        data = body.encode() if isinstance(body, str) else body
        self.files[path] = (status, data, etag)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def paths_requested(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture(autouse=True)
def _feeds_from_this_machine(settings: Any) -> None:
    """The feeds here are served from 127.0.0.1, which a real site refuses to fetch
    (tests/bookings/test_calendar_fetch_guard.py)."""
    settings.OUTBOUND_ALLOW_PRIVATE_ADDRESSES = True


@pytest.fixture
def calendar_server() -> Iterator[CalendarServer]:
    server_state = CalendarServer(port=free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requests.append((self.path, dict(self.headers)))
            status, body, etag = server_state.files.get(self.path, (404, b"not found", ""))
            if status == 200 and etag and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", "text/calendar; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", server_state.port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


# --- ICS text -----------------------------------------------------------------------


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def london_stamp(moment: datetime) -> str:
    return f"TZID=Europe/London:{moment.astimezone(LONDON):%Y%m%dT%H%M%S}"


def vevent(uid: str, *lines: str) -> str:
    return "\r\n".join(
        ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20250101T000000Z", "SUMMARY:Private", *lines,
         "END:VEVENT"]
    )  # fmt: skip


def ics(*events: str) -> str:
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Test//Calendar//EN", *events,
         "END:VCALENDAR", ""]
    )  # fmt: skip


def timed(uid: str, start: datetime, end: datetime, *extra: str) -> str:
    return vevent(uid, f"DTSTART;{london_stamp(start)}", f"DTEND;{london_stamp(end)}", *extra)


@pytest.fixture
def feed(coach: Any, calendar_server: CalendarServer) -> BusyCalendar:
    return BusyCalendar.objects.create(
        coach=coach, name="Personal", url=calendar_server.url("/personal.ics")
    )


def refresh(feed: BusyCalendar, **kwargs: Any) -> str:
    result = busy.refresh_busy_calendar(feed=feed, **kwargs)
    feed.refresh_from_db()
    return result


def local_times(event_type: Any, day: date, zone_name: str = "Europe/London") -> list[str]:
    tz = ZoneInfo(zone_name)
    start = datetime.combine(day, time(0), tzinfo=tz)
    slots = slots_for(event_type, start=start, end=start + timedelta(days=1), now=timezone.now())
    return [f"{slot.astimezone(tz):%H:%M}" for slot in slots]


def starts(feed: BusyCalendar) -> list[datetime]:
    return sorted(interval.during.lower for interval in BusyInterval.objects.filter(feed=feed))


# --- What blocks the coach's time ---------------------------------------------------


def test_a_timed_event_blocks_the_slots_it_overlaps_and_their_buffers(
    event_type: Any, feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    event_type.buffer_after_minutes = 15
    event_type.save()
    day = next_weekday()
    calendar_server.serve(
        "/personal.ics", ics(timed("dentist", london(day, 11), london(day, 11, 45)))
    )

    assert refresh(feed) == "imported"

    assert feed.events_imported == 1 and feed.last_error == "" and feed.last_fetched_at
    times = local_times(event_type, day)
    # 10:30 is blocked by its own 15-minute buffer running into 11:00.
    assert "10:30" not in times and "11:00" not in times and "11:30" not in times
    assert "10:00" in times and "12:00" in times
    assert len(times) == 16 - 3


def test_cancelled_and_free_events_leave_their_slots_open(
    event_type: Any, feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    day = next_weekday()
    calendar_server.serve(
        "/personal.ics",
        ics(
            timed("cancelled", london(day, 10), london(day, 11), "STATUS:CANCELLED"),
            timed("free", london(day, 13), london(day, 14), "TRANSP:TRANSPARENT"),
            timed("busy", london(day, 15), london(day, 16), "TRANSP:OPAQUE"),
        ),
    )

    assert refresh(feed) == "imported"

    assert list(BusyInterval.objects.values_list("uid", flat=True)) == ["busy"]
    times = local_times(event_type, day)
    assert {"10:00", "10:30", "13:00", "13:30"} <= set(times)
    assert "15:00" not in times and "15:30" not in times


def test_an_all_day_event_blocks_the_coachs_whole_day_in_the_coachs_zone(
    event_type: Any, feed: BusyCalendar, calendar_server: CalendarServer, coach_profile: Any
) -> None:
    coach_profile.time_zone = "America/New_York"
    coach_profile.save()
    day = next_weekday()
    calendar_server.serve(
        "/personal.ics",
        ics(
            vevent(
                "holiday", f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
                f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
            )
        ),
    )  # fmt: skip

    assert refresh(feed) == "imported"

    new_york = ZoneInfo("America/New_York")
    interval = BusyInterval.objects.get()
    assert interval.during.lower == datetime.combine(day, time(0), tzinfo=new_york)
    assert interval.during.upper == datetime.combine(day + timedelta(1), time(0), tzinfo=new_york)
    assert local_times(event_type, day, "America/New_York") == []
    assert len(local_times(event_type, day + timedelta(days=1), "America/New_York")) == 16


def test_a_weekly_series_blocks_exactly_its_occurrences_less_exdates_and_moves(
    event_type: Any, feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    day = next_weekday()  # a Wednesday
    weeks = [day + timedelta(weeks=n) for n in range(5)]
    calendar_server.serve(
        "/personal.ics",
        ics(
            timed(
                "standup", london(weeks[0], 10), london(weeks[0], 10, 30),
                # Until the fourth Wednesday, inclusive; the fifth is not in the series.
                f"RRULE:FREQ=WEEKLY;BYDAY=WE;UNTIL={stamp(london(weeks[3], 10))}",
                # The second one is skipped, written in UTC as Google does.
                f"EXDATE:{stamp(london(weeks[1], 10))}",
            ),
            # The third one moved to 15:00 that day.
            vevent(
                "standup", f"RECURRENCE-ID;{london_stamp(london(weeks[2], 10))}",
                f"DTSTART;{london_stamp(london(weeks[2], 15))}",
                f"DTEND;{london_stamp(london(weeks[2], 15, 30))}",
            ),
        ),
    )  # fmt: skip

    assert refresh(feed) == "imported"

    assert starts(feed) == [london(weeks[0], 10), london(weeks[2], 15), london(weeks[3], 10)]
    assert set(BusyInterval.objects.values_list("recurrence_id", flat=True)) == {
        stamp(london(weeks[0], 10)), stamp(london(weeks[2], 10)), stamp(london(weeks[3], 10))
    }  # fmt: skip
    assert "10:00" not in local_times(event_type, weeks[0])
    assert "10:00" in local_times(event_type, weeks[1])
    third = local_times(event_type, weeks[2])
    assert "10:00" in third and "15:00" not in third
    assert "10:00" not in local_times(event_type, weeks[3])
    assert "10:00" in local_times(event_type, weeks[4])


def test_the_coachs_copy_of_a_cancelled_booking_does_not_block_its_time(
    event_type: Any, feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    day = next_weekday()
    booking = services.book_slot(
        event_type=event_type, start=london(day, 10), name="Casey", email="casey@example.com",
        time_zone="Europe/London", answers={"goal": "A plan"},
    )  # fmt: skip
    services.cancel_booking(booking=booking)
    # The coach's calendar kept the invitation (same UID) and never applied the cancellation.
    calendar_server.serve(
        "/personal.ics",
        ics(
            timed(booking.ics_uid, london(day, 10), london(day, 10, 30)),
            timed("lunch", london(day, 12), london(day, 13)),
        ),
    )

    assert refresh(feed) == "imported"

    assert list(BusyInterval.objects.values_list("uid", flat=True)) == ["lunch"]
    assert "10:00" in local_times(event_type, day)


def test_an_inactive_calendar_blocks_nothing(
    event_type: Any, feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    day = next_weekday()
    calendar_server.serve("/personal.ics", ics(timed("x", london(day, 10), london(day, 11))))
    refresh(feed)
    assert "10:00" not in local_times(event_type, day)

    feed.is_active = False
    feed.save()

    assert "10:00" in local_times(event_type, day)


# --- Fetching: conditional, all or nothing, one worker at a time ---------------------


def test_a_304_keeps_the_busy_times(
    feed: BusyCalendar, calendar_server: CalendarServer, event_type: Any
) -> None:
    day = next_weekday()
    calendar_server.serve(
        "/personal.ics", ics(timed("x", london(day, 10), london(day, 11))), etag='"v1"'
    )
    assert refresh(feed) == "imported"
    first_fetch = feed.last_fetched_at
    # Same ETag, different body: only a server that ignored If-None-Match would send it.
    calendar_server.serve("/personal.ics", ics(), etag='"v1"')

    assert refresh(feed) == "not_modified"

    assert calendar_server.requests[-1][1].get("If-None-Match") == '"v1"'
    assert starts(feed) == [london(day, 10)]
    assert feed.last_fetched_at and first_fetch and feed.last_fetched_at > first_fetch


def test_an_expansion_that_no_longer_covers_the_horizon_is_fetched_in_full(
    feed: BusyCalendar, calendar_server: CalendarServer, event_type: Any
) -> None:
    calendar_server.serve("/personal.ics", ics(), etag='"v1"')
    refresh(feed)

    assert refresh(feed, now=timezone.now() + timedelta(days=10)) == "imported"

    assert "If-None-Match" not in calendar_server.requests[-1][1]


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, "Internal Server Error", "HTTP 500"),
        (200, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:cut\r\nDTSTART:2025", "malformed"),
        (200, "<html><body>Please sign in</body></html>", "did not return a calendar"),
    ],
)
def test_a_broken_feed_keeps_the_previous_busy_times_and_records_the_error(
    feed: BusyCalendar,
    calendar_server: CalendarServer,
    event_type: Any,
    status: int,
    body: str,
    message: str,
) -> None:
    day = next_weekday()
    calendar_server.serve("/personal.ics", ics(timed("x", london(day, 10), london(day, 11))))
    refresh(feed)
    fetched_at = feed.last_fetched_at
    calendar_server.serve("/personal.ics", body, status=status)

    assert refresh(feed) == "failed"

    assert message in feed.last_error and feed.last_error_at is not None
    assert feed.url not in feed.last_error  # the address is a secret
    assert starts(feed) == [london(day, 10)] and feed.events_imported == 1
    assert feed.last_fetched_at == fetched_at
    assert "10:00" not in local_times(event_type, day)


def test_an_unreachable_server_is_recorded_as_an_error(coach: Any, event_type: Any) -> None:
    feed = BusyCalendar.objects.create(
        coach=coach, name="Gone", url=f"http://127.0.0.1:{free_port()}/cal.ics"
    )

    assert refresh(feed) == "failed"

    assert "Could not reach the calendar server" in feed.last_error
    assert feed.fetch_started_at is None  # the lease is given back


def test_a_second_refresh_while_one_runs_skips_the_calendar(
    feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    calendar_server.serve("/personal.ics", ics())
    other_worker = BusyCalendar.objects.get(pk=feed.pk)
    assert other_worker.claim(now=timezone.now(), lease=busy.LEASE)

    assert refresh(feed) == "skipped"

    assert calendar_server.requests == []


def test_the_beat_task_refreshes_active_calendars_only(
    coach: Any, feed: BusyCalendar, calendar_server: CalendarServer, event_type: Any
) -> None:
    day = next_weekday()
    calendar_server.serve("/personal.ics", ics(timed("x", london(day, 10), london(day, 11))))
    calendar_server.serve("/old.ics", ics(timed("y", london(day, 12), london(day, 13))))
    old = BusyCalendar.objects.create(
        coach=coach, name="Old", url=calendar_server.url("/old.ics"), is_active=False
    )

    assert tasks.refresh_busy_calendars.delay().get() == 1

    assert calendar_server.paths_requested() == ["/personal.ics"]
    old.refresh_from_db()
    feed.refresh_from_db()
    assert old.last_fetched_at is None and not old.intervals.exists()
    assert feed.last_fetched_at is not None and feed.intervals.count() == 1


def test_the_refresh_is_on_the_beat_schedule(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["bookings-refresh-busy-calendars"]
    assert entry["task"] == tasks.refresh_busy_calendars.name
    assert entry["schedule"] == 900.0


# --- Booking on a busy time ------------------------------------------------------------


def test_the_api_refuses_a_booking_on_a_busy_time(
    client: Any, event_type: Any, feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    day = next_weekday()
    calendar_server.serve("/personal.ics", ics(timed("x", london(day, 10), london(day, 11))))
    refresh(feed)

    def post(start: datetime) -> Any:
        body = {
            "event_type": "discovery-call", "start": start.astimezone(UTC).isoformat(),
            "name": "Casey Candidate", "email": "casey@example.com",
            "time_zone": "America/New_York", "answers": {"goal": "Move into ML engineering"},
        }  # fmt: skip
        return client.post("/api/bookings/", body, content_type="application/json")

    listed = client.get(
        "/api/slots/", {"event_type": "discovery-call", "start": day, "end": day, "tz": "UTC"}
    ).json()
    listed_starts = {slot["start"] for d in listed["days"] for slot in d["slots"]}
    refused = post(london(day, 10))

    # Offered a moment ago and gone now is what a candidate sees: taken (409), as for a booking.
    assert refused.status_code == 409
    assert "taken" in refused.json()["error"]
    assert not Booking.objects.exists()
    assert f"{london(day, 10).astimezone(UTC):%Y-%m-%dT%H:%M}" not in " ".join(listed_starts)
    assert post(london(day, 11)).status_code == 201


# --- The coach's admin -----------------------------------------------------------------


def admin_form(coach: Any, url: str) -> dict[str, Any]:
    return {"coach": coach.pk, "name": "Personal", "url": url, "is_active": "on", "_save": "1"}


@pytest.mark.parametrize("url", ["ftp://calendar.example.com/me.ics", "file:///etc/passwd"])
def test_the_admin_refuses_an_address_that_is_not_http(
    coach_client: Any, coach: Any, url: str
) -> None:
    response = coach_client.post("/admin/bookings/busycalendar/add/", admin_form(coach, url))

    assert response.status_code == 200
    assert "http:// or https:// address" in response.content.decode()
    assert not BusyCalendar.objects.exists()


def test_the_admin_reads_a_webcal_address_as_https(coach_client: Any, coach: Any) -> None:
    response = coach_client.post(
        "/admin/bookings/busycalendar/add/",
        admin_form(coach, "webcal://p01-caldav.icloud.com/published/2/secret"),
    )

    assert response.status_code == 302
    assert BusyCalendar.objects.get().url == "https://p01-caldav.icloud.com/published/2/secret"


def test_the_admin_list_hides_the_secret_address_and_fetches_on_request(
    coach_client: Any, feed: BusyCalendar, calendar_server: CalendarServer
) -> None:
    feed.url = calendar_server.url("/personal.ics?key=s3cr3t-token")
    feed.save()
    calendar_server.serve("/personal.ics?key=s3cr3t-token", ics())

    listing = coach_client.get("/admin/bookings/busycalendar/")
    fetched = coach_client.post(
        "/admin/bookings/busycalendar/",
        {"action": "fetch_now", "_selected_action": [feed.pk]},
        follow=True,
    )

    assert listing.status_code == 200
    assert "s3cr3t-token" not in listing.content.decode()
    assert f"http://127.0.0.1:{calendar_server.port}/…" in listing.content.decode()
    assert "fetched in the background" in fetched.content.decode()
    # Celery runs tasks inline in tests; in production the worker does this.
    feed.refresh_from_db()
    assert feed.last_fetched_at is not None
