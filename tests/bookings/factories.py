"""Factories for bookings tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from bookings.models import AvailabilityRule, EventType

LONDON = ZoneInfo("Europe/London")


def make_event_type(coach: Any, **fields: Any) -> EventType:
    """A discovery call, Monday to Friday 09:00-17:00 in the coach's zone."""
    defaults: dict[str, Any] = {
        "name": "Discovery call",
        "slug": "discovery-call",
        "summary": "Twenty minutes to look at where you are.",
        "duration_minutes": 30,
        "start_increment_minutes": 30,
        "minimum_notice_minutes": 0,
        "horizon_days": 60,
        "reminder_offsets_minutes": [1440, 60],
        "intake_questions": [
            {"key": "goal", "label": "What do you want from the call?", "kind": "text",
             "required": True},
            {"key": "linkedin", "label": "LinkedIn or CV", "kind": "url", "required": False},
            {"key": "stage", "label": "Where are you?", "kind": "choice",
             "choices": ["Exploring", "Interviewing", "Negotiating"], "required": False},
        ],
    }  # fmt: skip
    defaults.update(fields)
    weekdays = defaults.pop("weekdays", range(5))
    event_type = EventType.objects.create(coach=coach, **defaults)
    for weekday in weekdays:
        AvailabilityRule.objects.create(
            event_type=event_type, weekday=weekday, start_time=time(9), end_time=time(17)
        )
    return event_type


def next_weekday(days_ahead: int = 3, weekday: int = 2) -> date:
    """A date at least `days_ahead` days from today (London) falling on `weekday`."""
    day = timezone.now().astimezone(LONDON).date() + timedelta(days=days_ahead)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return day


def london(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)
