"""RFC 5545 invitations: one stable UID per booking, SEQUENCE raised on every change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import urlencode

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from bookings.models import Booking, Seat

PRODID = "-//AI Career Coach//Bookings//EN"


def _calendar(method: str | None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def summary(booking: Booking) -> str:
    who = booking.name or booking.email or "candidate"
    return f"{booking.event_type.name}: {who} and {settings.SITE_NAME}"


def _event(booking: Booking, *, cancelled: bool = False, description: str = "") -> Event:
    event = Event()
    event.add("uid", booking.ics_uid)
    event.add("sequence", booking.sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", booking.start.astimezone(UTC))
    event.add("dtend", booking.end.astimezone(UTC))
    event.add("summary", summary(booking))
    event.add("location", booking.location_label)
    if booking.meeting_link and not cancelled:
        event.add("url", booking.meeting_link)
    if description:
        event.add("description", description)
    organizer = vCalAddress(f"mailto:{booking.coach.email}")
    organizer.params["cn"] = vText(booking.coach.get_full_name())
    event.add("organizer", organizer)
    if booking.email:
        attendee = vCalAddress(f"mailto:{booking.email}")
        attendee.params["cn"] = vText(booking.name or booking.email)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["partstat"] = vText("ACCEPTED")
        event.add("attendee", attendee)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def invitation(booking: Booking, *, description: str = "") -> str:
    """METHOD:REQUEST: a new or moved booking (same UID, higher SEQUENCE when moved)."""
    calendar = _calendar("REQUEST")
    calendar.add_component(_event(booking, description=description))
    return calendar.to_ical().decode()


def cancellation(booking: Booking) -> str:
    """METHOD:CANCEL with the invitation's UID, so calendars remove the same event."""
    calendar = _calendar("CANCEL")
    calendar.add_component(_event(booking, cancelled=True))
    return calendar.to_ical().decode()


def download(booking: Booking) -> str:
    """A plain .ics file for 'add to calendar' (no METHOD: it is not an email invitation)."""
    calendar = _calendar("PUBLISH")
    calendar.add_component(_event(booking))
    return calendar.to_ical().decode()


def feed(bookings: Iterable[Booking], *, name: str) -> str:
    calendar = _calendar("PUBLISH")
    calendar.add("x-wr-calname", name)
    for booking in bookings:
        lines = [f"{booking.name} <{booking.email}>", f"Candidate's zone: {booking.time_zone}"]
        lines += [f"{key}: {value}" for key, value in (booking.answers or {}).items()]
        calendar.add_component(_event(booking, description="\n".join(lines)))
    return calendar.to_ical().decode()


def google_calendar_link(booking: Booking, *, details: str = "") -> str:
    fmt = "%Y%m%dT%H%M%SZ"
    dates = f"{booking.start.astimezone(UTC):{fmt}}/{booking.end.astimezone(UTC):{fmt}}"
    query = urlencode(
        {
            "action": "TEMPLATE",
            "text": summary(booking),
            "dates": dates,
            "details": details,
            "location": booking.location_label,
        }
    )
    return f"https://calendar.google.com/calendar/render?{query}"


def attachment(content: str, *, method: str) -> dict[str, str]:
    name = "cancel.ics" if method == "CANCEL" else "invite.ics"
    return {"filename": name, "content": content, "mimetype": "text/calendar"}


def utc_stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _seat_event(seat: Seat, *, cancelled: bool = False, description: str = "") -> Event:
    """One attendee's copy of a group session: the seat's own UID, the shared link."""
    session = seat.session
    event_type = session.event_type
    event = Event()
    event.add("uid", seat.ics_uid)
    event.add("sequence", seat.sequence)
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("dtstart", session.start.astimezone(UTC))
    event.add("dtend", session.end.astimezone(UTC))
    event.add("summary", f"{event_type.name} with {settings.SITE_NAME}")
    event.add("location", seat.meeting_link or event_type.location_label)
    if seat.meeting_link and not cancelled:
        event.add("url", seat.meeting_link)
    if description:
        event.add("description", description)
    organizer = vCalAddress(f"mailto:{event_type.coach.email}")
    organizer.params["cn"] = vText(event_type.coach.get_full_name())
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{seat.email}")
    attendee.params["cn"] = vText(seat.name or seat.email)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def seat_invitation(seat: Seat, *, description: str = "") -> str:
    calendar = _calendar("REQUEST")
    calendar.add_component(_seat_event(seat, description=description))
    return calendar.to_ical().decode()


def seat_cancellation(seat: Seat) -> str:
    calendar = _calendar("CANCEL")
    calendar.add_component(_seat_event(seat, cancelled=True))
    return calendar.to_ical().decode()
