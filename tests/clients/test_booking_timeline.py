"""A moved booking shows on the contact's timeline, in the coach's zone with the zone named."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bookings import services
from clients.models import Contact, TimelineEvent
from coaching import times
from coaching.models import CoachProfile
from tests.bookings.factories import london, make_event_type, next_weekday

NEW_YORK = "America/New_York"


@pytest.fixture
def event_type(coach: Any) -> Any:
    CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    return make_event_type(coach)


def moved_booking(event_type: Any) -> tuple[Any, Any]:
    day = next_weekday(days_ahead=5)
    booking = services.book_slot(
        event_type=event_type, start=london(day, 10), name="Casey", email="casey@example.com",
        time_zone=NEW_YORK, answers={"goal": "A plan"},
    )  # fmt: skip
    old_start = booking.start
    # The page posts the new time with the visitor's offset, as the picker writes it.
    new_start = london(day, 14).astimezone(ZoneInfo(NEW_YORK))
    return services.reschedule_booking(booking=booking, start=new_start), old_start


def test_rescheduling_records_a_booking_moved_event_in_the_coachs_zone(event_type: Any) -> None:
    booking, old_start = moved_booking(event_type)
    contact = Contact.objects.get(email="casey@example.com")
    moved = contact.timeline.get(kind=TimelineEvent.Kind.BOOKING_MOVED)
    assert moved.title == "Booking moved: Discovery call"
    assert moved.detail == (
        f"{times.short_datetime(old_start, 'Europe/London')} → "
        f"{times.short_datetime(booking.start, 'Europe/London')}"
    )
    assert "14:00 GMT" in moved.detail or "14:00 BST" in moved.detail


def test_the_booked_event_after_a_move_labels_the_new_time_in_the_coachs_zone(
    event_type: Any,
) -> None:
    booking, _ = moved_booking(event_type)
    booked = Contact.objects.get(email="casey@example.com").timeline.get(
        kind=TimelineEvent.Kind.BOOKING
    )
    assert (
        booked.title
        == f"Booked Discovery call for {times.short_datetime(booking.start, 'Europe/London')}"
    )
    assert "UTC" not in booked.title


def test_each_move_is_its_own_line(event_type: Any) -> None:
    booking, _ = moved_booking(event_type)
    services.reschedule_booking(booking=booking, start=london(next_weekday(days_ahead=5), 15))
    contact = Contact.objects.get(email="casey@example.com")
    assert contact.timeline.filter(kind=TimelineEvent.Kind.BOOKING_MOVED).count() == 2
