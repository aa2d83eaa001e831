"""The database keeps the promise: first the race without the constraint, then 20
simultaneous API requests for one slot give exactly one booking and 19 × 409."""

from __future__ import annotations

import threading
import time as clock
from collections import Counter
from datetime import UTC
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client

from bookings.models import Booking, EventType
from tests.bookings.factories import london, make_event_type, next_weekday

THREADS = 20


def run_in_threads(work: Any, count: int = THREADS) -> list[Any]:
    """Start `count` threads at one barrier; each gets its own database connection."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - a 500 in a thread is a result here
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def check_then_insert(event_type: EventType, start: Any, index: int) -> str:
    """What a scheduler without the constraint does: look, then write."""
    booking = Booking(
        event_type=event_type, coach_id=event_type.coach_id, status="confirmed",
        time_zone="UTC", email=f"racer{index}@example.com",
    )  # fmt: skip
    booking.place(start)
    with transaction.atomic():
        taken = Booking.objects.blocking().filter(
            coach_id=event_type.coach_id, during__overlap=booking.during
        )
        if taken.exists():
            return "taken"
        clock.sleep(0.05)  # the request's other work between the check and the write
        booking.save()
    return "booked"


@pytest.mark.django_db(transaction=True)
def test_without_the_constraint_a_check_then_insert_double_books(coach: Any) -> None:
    event_type = make_event_type(coach)
    start = london(next_weekday(), 10)
    constraint = next(c for c in Booking._meta.constraints if c.name == "booking_no_double_booking")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Booking, constraint)
    try:
        results = run_in_threads(lambda i: check_then_insert(event_type, start, i))
        booked = Booking.objects.filter(start=start).count()
    finally:
        Booking.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(Booking, constraint)
    assert booked > 1, f"expected the race to double-book, results: {Counter(map(str, results))}"


@pytest.mark.django_db(transaction=True)
def test_with_the_constraint_the_same_check_then_insert_books_once(coach: Any) -> None:
    event_type = make_event_type(coach)
    start = london(next_weekday(), 10)
    results = run_in_threads(lambda i: check_then_insert(event_type, start, i))
    assert Booking.objects.filter(start=start).count() == 1
    assert (
        Counter(type(r).__name__ for r in results if not isinstance(r, str))["IntegrityError"] > 0
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_api_requests_make_one_booking_and_nineteen_409s(coach: Any) -> None:
    make_event_type(coach)
    start = london(next_weekday(), 14).astimezone(UTC).isoformat()

    def post(index: int) -> int:
        # Twenty different visitors: one visitor sending twenty would be throttled.
        visitor = Client(raise_request_exception=False, REMOTE_ADDR=f"203.0.113.{index + 1}")
        response = visitor.post(
            "/api/bookings/",
            {
                "event_type": "discovery-call",
                "start": start,
                "name": f"Racer {index}",
                "email": f"racer{index}@example.com",
                "time_zone": "Asia/Singapore",
                "answers": {"goal": "Win the race"},
            },
            content_type="application/json",
        )
        return response.status_code

    statuses = Counter(run_in_threads(post))
    assert statuses == {201: 1, 409: THREADS - 1}, statuses
    assert Booking.objects.count() == 1
