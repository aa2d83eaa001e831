"""Every time a person reads is in their zone with the zone named; US zones read 12 hours."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from django.core import mail
from django.utils import timezone

from bookings import services
from bookings.tokens import manage_token
from coaching import times
from tests.bookings.factories import london, next_weekday


def test_the_hold_on_a_new_york_page_says_until_when_in_new_york_time(
    client: Any, event_type: Any
) -> None:
    start = london(next_weekday(days_ahead=5), 10)
    held = client.post(
        "/book/discovery-call/hold/", {"start": start.isoformat(), "tz": "America/New_York"}
    )
    html = client.get(held["Location"]).content.decode()
    hold = services.Booking.objects.get()
    assert f"until {times.local_time(hold.hold_expires_at, 'America/New_York')}." in html
    assert " AM E" in html or " PM E" in html  # e.g. "3:05 AM EST"
    assert "UTC" not in html


def test_the_email_gives_a_new_york_reader_twelve_hours_and_the_london_coach_twenty_four(
    event_type: Any, django_capture_on_commit_callbacks: Any
) -> None:
    start = london(next_weekday(days_ahead=5), 15)
    with django_capture_on_commit_callbacks(execute=True):
        services.book_slot(
            event_type=event_type, start=start, name="Casey", email="casey@example.com",
            time_zone="America/New_York", answers={"goal": "A plan"},
        )  # fmt: skip
    to_candidate = next(m for m in mail.outbox if m.to == ["casey@example.com"])
    to_coach = next(m for m in mail.outbox if m.to == [event_type.coach.email])
    new_york = times.clock(start, "America/New_York")
    assert new_york.endswith(("10:00 AM", "11:00 AM"))
    assert f"{new_york}–" in to_candidate.body and "(America/New_York)" in to_candidate.body
    assert "15:00–15:30 (Europe/London)" in to_coach.body


def test_the_manage_page_and_the_portal_show_the_call_in_the_bookers_zone(
    client: Any, candidate: Any, event_type: Any
) -> None:
    start = london(next_weekday(days_ahead=5), 15)
    booking = services.book_slot(
        event_type=event_type, start=start, name="Casey", email=candidate.email,
        time_zone="America/New_York", answers={"goal": "A plan"}, user=candidate,
    )  # fmt: skip
    expected = times.local_span(booking.start, booking.end, "America/New_York")
    manage = client.get(f"/bookings/{manage_token(booking)}/").content.decode()
    assert expected in manage
    client.force_login(candidate)
    portal = client.get("/portal/").content.decode()
    assert times.local_datetime(booking.start, "America/New_York") in portal
    assert " UTC" not in portal


def test_a_pending_payment_hold_names_the_payers_zone(client: Any, event_type: Any) -> None:
    event_type.kind = "paid"
    event_type.price_amount = 150
    event_type.save()
    with time_machine.travel(timezone.now(), tick=False):
        booking = services.book_slot(
            event_type=event_type, start=london(next_weekday(days_ahead=5), 10), name="Casey",
            email="casey@example.com", time_zone="Asia/Tokyo", answers={"goal": "A plan"},
        )  # fmt: skip
        html = client.get(f"/bookings/{manage_token(booking)}/confirmed/").content.decode()
    assert booking.hold_expires_at is not None
    assert times.local_time(booking.hold_expires_at, "Asia/Tokyo") in html
    assert booking.hold_expires_at - timezone.now() <= timedelta(minutes=31)


def test_a_booking_moved_with_a_new_york_offset_still_names_its_utc_time_as_utc(
    event_type: Any,
) -> None:
    from datetime import UTC
    from zoneinfo import ZoneInfo

    booking = services.book_slot(
        event_type=event_type, start=london(next_weekday(days_ahead=5), 10), name="Casey",
        email="casey@example.com", time_zone="America/New_York", answers={"goal": "A plan"},
    )  # fmt: skip
    new = london(next_weekday(days_ahead=5), 14).astimezone(ZoneInfo("America/New_York"))
    moved = services.reschedule_booking(booking=booking, start=new)
    assert f"{new.astimezone(UTC):%H:%M} UTC" in str(moved)
