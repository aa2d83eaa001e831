"""PostgreSQL drops every connection during traffic: the app recovers without a restart.

The embedded cluster is shared by the whole suite, so instead of restarting it
this test terminates every server connection of the test database
(`pg_terminate_backend`), repeatedly, which is what the app sees when
PostgreSQL restarts: each pooled connection dies under it.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests.faults.conftest import Shop, Stack, book, starts
from tests.faults.processes import request

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


def test_killed_connections_cost_clean_errors_at_most_and_no_half_written_booking(
    shop: Shop, stack: Stack
) -> None:
    from bookings.models import Booking
    from coaching.models import OutboundEmail

    base = stack.web.url
    times = iter(starts(120, days_ahead=2))
    lock = threading.Lock()
    outcomes: list[tuple[str, int, bytes]] = []
    stop = threading.Event()

    def visitor(n: int) -> None:
        while not stop.is_set():
            with lock:
                start = next(times, None)
            if start is not None and n % 2 == 0:
                status, body = book(base, shop, start, f"visitor{n}@example.com")
                outcomes.append(("book", status, str(body).encode()[:300]))
            status, body, _ = request(base + "/search/?q=guide", timeout=20)
            outcomes.append(("search", status, body[:300]))

    with ThreadPoolExecutor(max_workers=4) as pool:
        for n in range(4):
            pool.submit(visitor, n)
        time.sleep(1.5)
        killed = 0
        for _ in range(5):
            killed += terminate_other_connections()
            time.sleep(0.7)
        stop.set()
    assert killed > 0, "the web server had connections to kill"

    failed = [(kind, status, body) for kind, status, body in outcomes if status >= 500]
    for kind, status, body in failed:
        assert status in (500, 503), (kind, status)
        assert b"Traceback" not in body and b"psycopg" not in body, body
    assert all(status in (200, 201, 500, 503) for _, status, _ in outcomes)
    # Recovery without a restart: the pool replaces dead connections on checkout.
    after = [request(base + "/search/?q=guide")[0] for _ in range(10)]
    assert after == [200] * 10
    status, _ = book(base, shop, next(times), "after@example.com")
    assert status == 201
    # No half-written record: every booking has its reminders and both emails.
    for booking in Booking.objects.all():
        assert booking.status == "confirmed"
        assert booking.reminders.exists(), booking.pk
        assert OutboundEmail.objects.filter(key__contains=f"-{booking.pk}-").count() >= 2 or (
            OutboundEmail.objects.filter(to=booking.email).exists()
        ), booking.pk
    booked = sum(1 for kind, status, _ in outcomes if kind == "book" and status == 201)
    assert Booking.objects.count() >= booked + 1
    print(f"{len(outcomes)} requests, {len(failed)} failed cleanly, {killed} connections killed")
