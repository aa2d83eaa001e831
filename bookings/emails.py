"""One small function per booking email. Every key names booking, event and SEQUENCE,
so a retried task sends once and a later change sends again."""

from __future__ import annotations

from typing import Any

from bookings import ics
from bookings.models import Booking, EventType, Seat
from bookings.signals import prep_brief_requested
from coaching import times
from coaching.emails import queue_email
from coaching.hooks import answers


def _when(booking: Booking, zone_name: str) -> str:
    return times.local_span(booking.start, booking.end, zone_name)


def booking_context(booking: Booking) -> dict[str, Any]:
    from bookings.availability import coach_zone_name
    from bookings.tokens import manage_url

    coach_zone = coach_zone_name()
    return {
        "booking": booking,
        "event_type": booking.event_type,
        "candidate_when": _when(booking, booking.time_zone),
        "coach_when": _when(booking, coach_zone),
        "candidate_zone": booking.time_zone,
        "coach_zone": coach_zone,
        "same_zone": coach_zone == booking.time_zone,
        "manage_url": manage_url(booking),
        "google_url": ics.google_calendar_link(booking, details=manage_url(booking)),
        "location": booking.location_label,
        "meeting_link": booking.meeting_link,
        "cancel_deadline": _when_instant(booking.cancel_deadline(), booking.time_zone),
        "reschedule_deadline": _when_instant(booking.reschedule_deadline(), booking.time_zone),
        "reschedules_left": booking.reschedules_left(),
        "answers": _answer_lines(booking),
        "money_policy": money_policy(booking),
        "money_outcome": money_outcome(booking),
    }


def money_policy(booking: Booking) -> str:
    """What cancelling does to the payment or the credit: pages and emails say the same."""
    deadline = _when_instant(booking.cancel_deadline(), booking.time_zone)
    kind = booking.event_type.kind
    if kind == EventType.Kind.PAID:
        return (
            f"Cancel before {deadline} for a full refund; a later cancellation or a missed "
            "session is not refunded."
        )
    if kind == EventType.Kind.PACKAGE:
        return (
            f"Cancel before {deadline} and the session credit goes back to your package; "
            "after that, or if you miss the session, the credit counts as used."
        )
    return ""


def money_outcome(booking: Booking) -> str:
    """After a cancellation: what happened to the money or the credit."""
    late = booking.status == Booking.Status.LATE_CANCEL
    if booking.status not in {Booking.Status.CANCELLED, Booking.Status.LATE_CANCEL}:
        return ""
    order = booking.order if booking.order_id else None
    if order is not None and order.paid_at is not None:
        if late:
            return "As a late cancellation under the booking's policy, the payment is not refunded."
        return (
            f"Your payment of {order.total_display} is being refunded in full; banks take a few "
            "days to show it."
        )
    if booking.credit_grant_id:
        if booking.credit_returned_at is not None:
            return "The session credit is back in your package."
        if late:
            return "As a late cancellation under the booking's policy, the session credit is used."
    return ""


def _when_instant(value: Any, zone_name: str) -> str:
    return times.local_datetime(value, zone_name, year=False)


def _answer_lines(booking: Booking) -> list[tuple[str, str]]:
    labels = {
        q.get("key"): q.get("label", q.get("key")) for q in booking.event_type.intake_questions
    }
    return [
        (str(labels.get(key, key)), str(value)) for key, value in (booking.answers or {}).items()
    ]


def _key(booking: Booking, event: str, to: str = "candidate") -> str:
    return f"bookings-{booking.pk}-{event}-{to}-seq{booking.sequence}"


def send_booking_confirmed(booking: Booking) -> None:
    context = booking_context(booking)
    queue_email(
        key=_key(booking, "confirmed"),
        to=booking.email,
        template="bookings-confirmed",
        context=context,
        attachments=[
            ics.attachment(
                ics.invitation(booking, description=context["manage_url"]), method="REQUEST"
            )
        ],
    )


def send_booking_rescheduled(booking: Booking) -> None:
    context = booking_context(booking)
    queue_email(
        key=_key(booking, "moved"),
        to=booking.email,
        template="bookings-rescheduled",
        context=context,
        attachments=[
            ics.attachment(
                ics.invitation(booking, description=context["manage_url"]), method="REQUEST"
            )
        ],
    )


def send_booking_cancelled(booking: Booking) -> None:
    queue_email(
        key=_key(booking, "cancelled"),
        to=booking.email,
        template="bookings-cancelled",
        context=booking_context(booking),
        attachments=[ics.attachment(ics.cancellation(booking), method="CANCEL")],
    )


def send_booking_to_coach(booking: Booking, *, change: str) -> None:
    """The coach's copy: an invitation (or cancellation) with the same UID and SEQUENCE."""
    content = ics.cancellation(booking) if change == "cancelled" else ics.invitation(booking)
    queue_email(
        key=_key(booking, change, to="coach"),
        to=booking.coach.email,
        template="bookings-coach-notice",
        context={**booking_context(booking), "change": change},
        attachments=[
            ics.attachment(content, method="CANCEL" if change == "cancelled" else "REQUEST")
        ],
    )


def send_reminder(booking: Booking, *, offset_minutes: int) -> None:
    queue_email(
        key=f"bookings-{booking.pk}-reminder-{offset_minutes}-{ics.utc_stamp(booking.start)}",
        to=booking.email,
        template="bookings-reminder",
        context={**booking_context(booking), "offset_minutes": offset_minutes},
    )


def send_prep_brief(booking: Booking) -> None:
    sections: list[tuple[str, list[str]]] = []
    for found in answers(prep_brief_requested, Booking, booking=booking):
        sections.extend(found)
    queue_email(
        key=f"bookings-{booking.pk}-prep-brief-{ics.utc_stamp(booking.start)}",
        to=booking.coach.email,
        template="bookings-prep-brief",
        context={**booking_context(booking), "sections": sections},
    )


def send_payment_refunded(booking: Booking) -> None:
    """The payment went back: the time was given away first, or cancelled in time."""
    context = booking_context(booking)
    context["time_lost"] = booking.status == Booking.Status.EXPIRED
    context["order"] = booking.order
    queue_email(
        key=f"bookings-{booking.pk}-payment-refunded",
        to=booking.email,
        template="bookings-payment-refunded",
        context=context,
    )


def send_waitlist_offer(booking: Booking) -> None:
    context = booking_context(booking)
    context["hold_until"] = _when_instant(booking.hold_expires_at, booking.time_zone)
    context["claim_url"] = context["manage_url"]
    queue_email(
        key=f"bookings-{booking.pk}-waitlist-offer",
        to=booking.email,
        template="bookings-waitlist-offer",
        context=context,
    )


# --- Group sessions: one email per attendee, keyed by seat and SEQUENCE ----------


def seat_context(seat: Seat) -> dict[str, Any]:
    from bookings.availability import coach_zone_name
    from bookings.tokens import seat_url

    session = seat.session
    coach_zone = coach_zone_name()
    return {
        "seat": seat,
        "session": session,
        "event_type": session.event_type,
        "candidate_when": times.local_span(session.start, session.end, seat.time_zone),
        "coach_when": times.local_span(session.start, session.end, coach_zone),
        "candidate_zone": seat.time_zone,
        "coach_zone": coach_zone,
        "same_zone": coach_zone == seat.time_zone,
        "manage_url": seat_url(seat),
        "meeting_link": seat.meeting_link,
        "location": seat.meeting_link or session.event_type.location_label,
        "cancel_deadline": _when_instant(seat.cancel_deadline(), seat.time_zone),
    }


def _seat_key(seat: Seat, event: str) -> str:
    return f"bookings-seat-{seat.pk}-{event}-seq{seat.sequence}"


def send_seat_invitation(seat: Seat) -> None:
    """The attendee's invitation: the shared meeting link and an .ics of their own."""
    context = seat_context(seat)
    queue_email(
        key=_seat_key(seat, "confirmed"),
        to=seat.email,
        template="bookings-seat-confirmed",
        context=context,
        attachments=[
            ics.attachment(
                ics.seat_invitation(seat, description=context["manage_url"]), method="REQUEST"
            )
        ],
    )


def send_seat_cancelled(seat: Seat) -> None:
    queue_email(
        key=_seat_key(seat, "cancelled"),
        to=seat.email,
        template="bookings-seat-cancelled",
        context=seat_context(seat),
        attachments=[ics.attachment(ics.seat_cancellation(seat), method="CANCEL")],
    )


def send_seat_offer(seat: Seat) -> None:
    """A freed seat is held for the next person waiting."""
    context = seat_context(seat)
    context["hold_until"] = _when_instant(seat.hold_expires_at, seat.time_zone)
    queue_email(
        key=f"bookings-seat-{seat.pk}-offer",
        to=seat.email,
        template="bookings-seat-offer",
        context=context,
    )


def send_attendee_message(seat: Seat, *, subject: str, message: str, key: str) -> None:
    """The coach's note to everyone in a session; `key` names the message, so a resend is one."""
    queue_email(
        key=f"bookings-seat-{seat.pk}-message-{key}",
        to=seat.email,
        template="bookings-seat-message",
        context={**seat_context(seat), "subject": subject, "message": message},
    )


def send_seat_refunded(seat: Seat, *, amount: str) -> None:
    queue_email(
        key=f"bookings-seat-{seat.pk}-refunded",
        to=seat.email,
        template="bookings-seat-refunded",
        context={**seat_context(seat), "amount": amount, "place_lost": seat.status == "expired"},
    )
