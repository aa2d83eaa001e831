"""Demo event types, weekday hours and a few bookings. Idempotent."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from bookings.availability import slots_for
from bookings.models import AvailabilityRule, Booking, EventType

VIDEO = "Video call"
# Each booking gets its own room; the link is in the invitation, reminder and manage page.
MEETING = "https://meet.jit.si/coaching-{room}"

INTAKE = [
    {"key": "goal", "label": "What would make this call worth your time?", "kind": "text",
     "required": True},
    {"key": "stage", "label": "Where are you in your search?", "kind": "choice",
     "choices": ["Exploring AI roles", "Applying", "Interviewing", "Negotiating an offer"],
     "required": True},
    {"key": "profile", "label": "LinkedIn profile or CV link", "kind": "url", "required": False},
]  # fmt: skip

EVENT_TYPES = [
    {
        "slug": "discovery-call", "kind": EventType.Kind.DISCOVERY, "name": "Discovery call",
        "summary": "Twenty minutes to look at where you are, where you want to be and whether "
        "coaching is the right next step.",
        "description": "Bring your questions. You leave with two or three concrete next steps, "
        "whether or not we work together.",
        "duration_minutes": 20, "buffer_after_minutes": 10, "start_increment_minutes": 30,
        "minimum_notice_minutes": 12 * 60, "horizon_days": 60, "daily_cap": 4,
        "location_kind": EventType.Location.VIDEO, "location_detail": VIDEO,
        "meeting_url": MEETING,
        "intake_questions": INTAKE, "reminder_offsets_minutes": [1440, 60],
    },
    {
        "slug": "strategy-session", "kind": EventType.Kind.PAID, "name": "Strategy session",
        "summary": "Fifty minutes on one hard question: your story, an offer, a career move.",
        "description": "A focused working session with written notes afterwards.",
        "duration_minutes": 50, "buffer_before_minutes": 10, "buffer_after_minutes": 10,
        "start_increment_minutes": 60, "minimum_notice_minutes": 24 * 60, "horizon_days": 60,
        "price_amount": Decimal("150.00"), "currency": "GBP",
        "location_kind": EventType.Location.VIDEO, "location_detail": VIDEO,
        "meeting_url": MEETING,
        "intake_questions": INTAKE, "reminder_offsets_minutes": [1440, 60],
        "cancel_cutoff_hours": 48,
    },
    {
        "slug": "package-session", "kind": EventType.Kind.PACKAGE, "name": "Package session",
        "summary": "A session from your coaching package (uses one credit).",
        "duration_minutes": 50, "buffer_before_minutes": 10, "buffer_after_minutes": 10,
        "start_increment_minutes": 60, "minimum_notice_minutes": 24 * 60, "horizon_days": 90,
        "location_kind": EventType.Location.VIDEO, "location_detail": VIDEO,
        "meeting_url": MEETING,
        "intake_questions": [INTAKE[0]], "reminder_offsets_minutes": [1440, 60],
        "position": 2,
    },
]  # fmt: skip

DEMO_BOOKINGS = [
    ("discovery-call", 2, "Priya Shah", "priya.demo@example.com", "Asia/Kolkata"),
    ("discovery-call", 3, "Daniel Kim", "daniel.demo@example.com", "America/New_York"),
    ("strategy-session", 5, "Marta Lopez", "marta.demo@example.com", "Europe/Madrid"),
    ("discovery-call", 8, "Sam Okafor", "sam.demo@example.com", "Africa/Lagos"),
]


def load(command: Any) -> str:
    from coaching.demo import ensure_coach

    coach = ensure_coach()
    for position, fields in enumerate(EVENT_TYPES):
        data = {"position": position, **fields}
        slug = data.pop("slug")
        event_type, _ = EventType.objects.update_or_create(
            slug=slug, defaults={**data, "coach": coach}
        )
        if not event_type.rules.exists():
            AvailabilityRule.objects.bulk_create(
                AvailabilityRule(event_type=event_type, weekday=day, start_time=time(9),
                                 end_time=time(17))
                for day in range(5)
            )  # fmt: skip
    made = 0
    now = timezone.now()
    for slug, days_ahead, name, email, zone_name in DEMO_BOOKINGS:
        event_type = EventType.objects.get(slug=slug)
        if Booking.objects.filter(email=email, start__gte=now).exists():
            continue
        start = now + timedelta(days=days_ahead)
        free = slots_for(event_type, start=start, end=start + timedelta(days=7), now=now)
        if not free:
            continue
        booking = Booking(
            event_type=event_type, coach=coach, name=name, email=email, time_zone=zone_name,
            status=Booking.Status.CONFIRMED, confirmed_at=now, policy=event_type.policy(),
            price_amount=event_type.price_amount, meeting_url=event_type.new_meeting_link(),
            answers={"goal": "Move into an ML engineering role", "stage": "Interviewing"},
        )  # fmt: skip
        booking.place(free[len(free) // 3])
        booking.save()
        made += 1
    sessions = _workshops(coach, now)
    return (
        f"{len(EVENT_TYPES)} event types, {made} new demo bookings, "
        f"{sessions} new workshop sessions"
    )


WORKSHOP = {
    "slug": "negotiation-workshop", "name": "Salary negotiation workshop",
    "summary": "Ninety minutes on the offer stage in a group of eight: anchors, counters, "
    "equity, and the email you send tomorrow.",
    "kind": EventType.Kind.DISCOVERY, "seats": 8, "duration_minutes": 90,
    "meeting_url": "https://meet.jit.si/coaching-{room}", "minimum_notice_minutes": 0,
    "position": 10,
}  # fmt: skip


def _workshops(coach: Any, now: datetime) -> int:
    """A free workshop on two evenings, a few seats taken, so /workshops/ has dates."""
    from bookings import seats
    from bookings.availability import coach_zone_name
    from bookings.services import BookingError

    data = dict(WORKSHOP)
    slug = data.pop("slug")
    event_type, _ = EventType.objects.update_or_create(slug=slug, defaults={**data, "coach": coach})
    if event_type.group_sessions.filter(start__gte=now).exists():
        return 0
    tz = ZoneInfo(coach_zone_name())
    made = 0
    for days_ahead, taken in ((10, 5), (24, 2)):
        day = (now + timedelta(days=days_ahead)).astimezone(tz).date()
        try:
            session = seats.schedule_group_session(
                event_type=event_type, start=datetime.combine(day, time(18), tzinfo=tz), now=now
            )
        except BookingError:
            continue  # a demo call sits there: the coach's time is taken
        for n in range(taken):
            seats.take_seat(
                session=session, name=f"Demo attendee {n + 1}",
                email=f"attendee{n + 1}.demo@example.com", time_zone="Europe/London", now=now,
            )  # fmt: skip
        made += 1
    return made
