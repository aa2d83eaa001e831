"""Every video call gets a real link: fixed per event type, or a room of its own per booking."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from icalendar import Calendar

from bookings import services
from bookings.models import BookingReminder
from bookings.tokens import manage_token
from tests.bookings.factories import london, next_weekday

ROOMS = "https://meet.jit.si/coaching-{room}"


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


def book(event_type: Any, hour: int = 10, email: str = "casey@example.com") -> Any:
    return services.book_slot(
        event_type=event_type, start=london(next_weekday(days_ahead=5), hour), name="Casey",
        email=email, time_zone="America/New_York", answers={"goal": "A plan"},
    )  # fmt: skip


def vevent(message: Any) -> Any:
    content = next(c for _n, c, m in message.attachments if m.startswith("text/calendar"))
    return next(iter(Calendar.from_ical(content).walk("VEVENT")))


def test_a_room_template_gives_each_booking_its_own_room(event_type: Any) -> None:
    event_type.meeting_url = ROOMS
    event_type.save()
    first, second = book(event_type, 10), book(event_type, 12, email="other@example.com")
    assert first.meeting_url.startswith("https://meet.jit.si/coaching-")
    assert "{room}" not in first.meeting_url
    assert first.meeting_url != second.meeting_url


def test_a_fixed_link_is_the_same_for_every_booking(event_type: Any) -> None:
    event_type.meeting_url = "https://zoom.example/j/123"
    event_type.save()
    assert book(event_type, 10).meeting_url == "https://zoom.example/j/123"
    assert book(event_type, 12, email="o@example.com").meeting_url == "https://zoom.example/j/123"


@pytest.mark.parametrize(
    "value",
    ["http://meet.jit.si/{room}", "javascript:alert(1)", "https://meet.jit.si/{name}", "room"],
)
def test_the_event_type_accepts_only_https_links_with_room_as_the_only_placeholder(
    event_type: Any, value: str
) -> None:
    event_type.meeting_url = value
    with pytest.raises(ValidationError) as error:
        event_type.clean()
    assert "meeting_url" in error.value.message_dict


def test_the_link_is_in_the_confirmation_its_invitation_the_reminder_and_the_manage_page(
    client: Any, event_type: Any, commit: Any
) -> None:
    event_type.meeting_url = ROOMS
    event_type.save()
    with commit():
        booking = book(event_type)
    link = booking.meeting_url
    confirmation = next(m for m in mail.outbox if m.to == ["casey@example.com"])
    assert link in confirmation.body
    assert link in confirmation.alternatives[0][0]
    event = vevent(confirmation)
    assert str(event["location"]) == link and str(event["url"]) == link

    reminder = booking.reminders.filter(kind=BookingReminder.Kind.CANDIDATE).first()
    mail.outbox.clear()
    with commit():
        services.send_due_reminders(now=reminder.due_at)
    assert any(link in m.body for m in mail.outbox if m.to == ["casey@example.com"])

    page = client.get(f"/bookings/{manage_token(booking)}/").content.decode()
    assert f'href="{link}"' in page


def test_moving_keeps_the_link_and_cancelling_retires_it(
    client: Any, event_type: Any, commit: Any
) -> None:
    event_type.meeting_url = ROOMS
    event_type.save()
    booking = book(event_type)
    link = booking.meeting_url
    with commit():
        moved = services.reschedule_booking(
            booking=booking, start=london(next_weekday(days_ahead=5), 14)
        )
    assert moved.meeting_url == link
    moved_email = [m for m in mail.outbox if m.to == ["casey@example.com"]][-1]
    assert moved_email.subject.startswith("Moved") and str(vevent(moved_email)["url"]) == link

    mail.outbox.clear()
    with commit():
        cancelled = services.cancel_booking(booking=moved)
    assert cancelled.meeting_url == ""
    assert all(link not in m.body for m in mail.outbox)
    page = client.get(f"/bookings/{manage_token(cancelled)}/").content.decode()
    assert link not in page


def test_a_phone_call_gets_no_video_link(event_type: Any) -> None:
    event_type.meeting_url = ROOMS
    event_type.location_kind = "phone"
    event_type.save()
    assert book(event_type).meeting_url == ""


def test_the_demo_gives_every_video_call_a_room_of_its_own(demo_data: None) -> None:
    from bookings.models import Booking, EventType

    assert all(
        event_type.meeting_url == "https://meet.jit.si/coaching-{room}"
        for event_type in EventType.objects.filter(location_kind="video")
    )
    links = [b.meeting_url for b in Booking.objects.filter(status="confirmed")]
    assert links and all(link.startswith("https://meet.jit.si/coaching-") for link in links)
    assert len(set(links)) == len(links)
