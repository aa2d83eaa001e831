"""A script cannot take the coach's calendar: holds, bookings and the waiting list are limited."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest

from bookings.models import Booking
from tests.bookings.factories import london, next_weekday

pytestmark = pytest.mark.django_db


def test_a_script_booking_every_free_slot_with_made_up_addresses_gets_a_few_then_429s(
    client: Any, event_type: Any, settings: Any
) -> None:
    allowed = settings.THROTTLE_LIMITS["booking"]["ip"][0]
    first = london(next_weekday(), 9)
    statuses = []
    for index in range(16):
        response = client.post(
            "/api/bookings/",
            {
                "event_type": "discovery-call",
                "start": (first + timedelta(minutes=30 * index)).astimezone(UTC).isoformat(),
                "name": f"Bot {index}",
                "email": f"bot{index}@example.net",
                "time_zone": "Europe/London",
                "answers": {"goal": "Take them all"},
            },
            content_type="application/json",
        )
        statuses.append(response.status_code)

    assert statuses[:allowed] == [201] * allowed
    assert set(statuses[allowed:]) == {429}
    assert Booking.objects.count() == allowed
    assert int(response["Retry-After"]) > 0
    assert "Too many bookings" in response.json()["error"]


def test_one_address_cannot_be_booked_over_and_over_from_many_networks(
    event_type: Any, settings: Any
) -> None:
    from django.test import Client

    per_address = settings.THROTTLE_LIMITS["booking"]["email"][0]
    first = london(next_weekday(), 9)
    statuses = []
    for index in range(per_address + 1):
        visitor = Client(REMOTE_ADDR=f"198.51.100.{index + 1}")
        response = visitor.post(
            "/api/bookings/",
            {
                "event_type": "discovery-call",
                "start": (first + timedelta(hours=index)).astimezone(UTC).isoformat(),
                "name": "Same person",
                "email": "victim@example.com",
                "time_zone": "Europe/London",
                "answers": {"goal": "Flood an inbox"},
            },
            content_type="application/json",
        )
        statuses.append(response.status_code)

    assert statuses == [201] * per_address + [429]


def test_holding_slot_after_slot_from_one_network_ends_in_a_page_that_says_why(
    client: Any, event_type: Any, settings: Any
) -> None:
    settings.THROTTLE_LIMITS = {**settings.THROTTLE_LIMITS, "slot-hold": {"ip": (3, 3600)}}
    first = london(next_weekday(), 9)
    responses = [
        client.post(
            "/book/discovery-call/hold/",
            {"start": (first + timedelta(minutes=30 * index)).isoformat()},
        )
        for index in range(4)
    ]

    assert [r.status_code for r in responses] == [302, 302, 302, 429]
    assert Booking.objects.filter(status=Booking.Status.HELD).count() == 3
    page = responses[-1].content.decode()
    assert "Too many times were held from here" in page
    assert responses[-1]["Retry-After"]


def test_the_waiting_list_cannot_be_filled_from_one_network(
    client: Any, event_type: Any, settings: Any
) -> None:
    allowed = settings.THROTTLE_LIMITS["waitlist"]["ip"][0]
    statuses = [
        client.post(
            "/book/discovery-call/waitlist/",
            {"name": "W", "email": f"w{index}@example.com", "time_zone": "Europe/London"},
        ).status_code
        for index in range(allowed + 1)
    ]

    assert statuses[:allowed] == [302] * allowed
    assert statuses[allowed] == 429
    assert event_type.waitlist.count() == allowed
