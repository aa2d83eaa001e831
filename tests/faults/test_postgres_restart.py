"""PostgreSQL restarted, or its connections killed, during traffic: the app recovers by itself.

Two faults. The first restarts a real PostgreSQL server: the suite's cluster is
shared by every test, so this test serves the app from a private cluster (see
`private_db`) and stops and starts it under the visitors, once at once (what
`pg_ctl restart -m fast` does) and once for longer than the pool waits for a
connection, so visitors meet the database down. The second, on the suite's
cluster, terminates every server connection of the test database
(`pg_terminate_backend`) again and again: each pooled connection dies under it.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.faults.conftest import Shop, Stack, book, booking_json, starts
from tests.faults.private_db import PostgresServer, in_django
from tests.faults.processes import RedisServer, WebServer, base_env, request, wait_for

pytestmark = [pytest.mark.slow]

WHOLE_BOOKING = {
    "status": "confirmed",
    "reminders": ["candidate-1440", "candidate-60", "prep_brief-60"],
    "emails": ["confirmed-candidate-seq0", "new-coach-seq0"],
}


@dataclass
class PrivateSite:
    """gunicorn serving the app from a PostgreSQL cluster of this test's own."""

    postgres: PostgresServer
    web: WebServer
    event_type: str
    visits: Iterator[int] = field(default_factory=itertools.count)

    def book(self, start: Any, email: str) -> tuple[int, bytes, dict[str, str]]:
        body = json.dumps(booking_json(self.event_type, start, email)).encode()
        return request(
            self.web.url + "/api/bookings/",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )

    def search(self) -> tuple[int, bytes, dict[str, str]]:
        # A query never asked before (the page cache keys on `q`, not on stray
        # parameters): stored pages serve visitors with the database down, and this
        # read is meant to reach it.
        visit = next(self.visits)
        return request(self.web.url + f"/search/?q=guide+{visit}", timeout=30)


@pytest.fixture
def private_site(tmp_path: Path) -> Iterator[PrivateSite]:
    postgres = PostgresServer(tmp_path / "postgres")
    redis = RedisServer()
    web: WebServer | None = None
    try:
        postgres.start()
        redis.start()
        env = base_env(
            DATABASE_URL=postgres.url(), REDIS_URL=redis.url, MEDIA_ROOT=str(tmp_path / "media")
        )
        web = WebServer(env, workers=2, threads=4)
        # gunicorn boots while the schema is made: it needs the database up, not migrated.
        with ThreadPoolExecutor(max_workers=1) as pool:
            seeding = pool.submit(in_django, env, "migrate_and_seed")
            web.start()
            seeded = seeding.result()
        yield PrivateSite(postgres=postgres, web=web, event_type=seeded["event_type"])
    finally:
        if web is not None:
            web.stop()
        redis.stop()
        postgres.stop()


@dataclass
class Traffic:
    """Visitors reading the search page and booking calls until told to stop."""

    site: PrivateSite
    times: Iterator[Any]
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def visitor(self, n: int) -> None:
        attempt = 0
        while not self.stop.is_set():
            attempt += 1
            if n % 2 == 0:
                email = f"visitor{n}-{attempt}@example.com"
                self.record("book", *self.site.book(self.next_start(), email), email=email)
            self.record("search", *self.site.search())

    def next_start(self) -> Any:
        with self.lock:
            return next(self.times)

    def record(
        self, kind: str, status: int, body: bytes, headers: dict[str, str], email: str = ""
    ) -> None:
        with self.lock:
            self.outcomes.append(
                {"kind": kind, "status": status, "body": body[:2000], "headers": headers,
                 "email": email}
            )  # fmt: skip


def pool_timeout() -> float:
    """How long a request that finds the database down waits for a connection (then a 503)."""
    from django.conf import settings

    pool = settings.DATABASES["default"]["OPTIONS"].get("pool")
    return float(pool["timeout"]) if pool else 0.0


def web_workers(web: WebServer) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(web.pid)], capture_output=True, text=True)
    return sorted(int(pid) for pid in found.stdout.split())


def assert_clean_503(kind: str, status: int, body: bytes, headers: dict[str, str]) -> None:
    assert status == 503, (kind, status, body[:500])
    assert headers.get("Retry-After") == "5", (kind, headers)
    for leak in (b"Traceback", b"psycopg", b"OperationalError", b"connection"):
        assert leak not in body, (kind, leak, body[:500])
    if kind == "book":
        assert json.loads(body) == {"error": "The service is briefly unavailable; please retry."}
    else:
        assert b"The site is briefly unavailable" in body, body[:500]


def test_a_restarted_postgresql_costs_clean_503s_at_most_and_the_app_recovers_by_itself(
    private_site: PrivateSite,
) -> None:
    site = private_site
    workers = web_workers(site.web)
    traffic = Traffic(site=site, times=iter(starts(400, days_ahead=2)))
    with ThreadPoolExecutor(max_workers=6) as pool:
        visitors = [pool.submit(traffic.visitor, n) for n in range(4)]
        try:
            time.sleep(1.5)
            # What `pg_ctl restart -m fast` does: open transactions roll back, clients drop.
            site.postgres.stop()
            site.postgres.start()
            time.sleep(2)
            # Down for longer than a request waits for a connection: visitors meet it.
            site.postgres.stop()
            down_at = time.monotonic()
            probes = [
                pool.submit(site.search),
                pool.submit(site.book, traffic.next_start(), "down@example.com"),
            ]
            searched, booked_while_down = (probe.result() for probe in probes)
            time.sleep(max(0.0, pool_timeout() + 1 - (time.monotonic() - down_at)))
            site.postgres.start()
            time.sleep(1)
        finally:
            traffic.stop.set()
        for visitor in visitors:
            visitor.result()
    assert_clean_503("search", *searched)
    assert_clean_503("book", *booked_while_down)

    failed = [o for o in traffic.outcomes if o["status"] not in (200, 201)]
    for outcome in failed:
        assert_clean_503(outcome["kind"], outcome["status"], outcome["body"], outcome["headers"])
    assert failed, "no visitor met the database down: the test proved nothing"
    # Recovery without restarting the app: the pool replaces dead connections.
    wait_for(lambda: site.web.alive() and request(site.web.url + "/healthz")[0] == 200,
             "the app to reach PostgreSQL again")  # fmt: skip
    assert [site.search()[0] for _ in range(10)] == [200] * 10
    status, body, _ = site.book(traffic.next_start(), "after@example.com")
    assert status == 201, body
    assert web_workers(site.web) == workers, "gunicorn's workers were replaced"

    # Nothing half-written: every booking in the restarted cluster has all it owes.
    bookings, orphan_emails = site.postgres.audit_bookings()
    assert orphan_emails == []
    for booking in bookings:
        assert {key: booking[key] for key in WHOLE_BOOKING} == WHOLE_BOOKING, booking
    saved = {booking["email"] for booking in bookings}
    booked = {o["email"] for o in traffic.outcomes if o["kind"] == "book" and o["status"] == 201}
    tried = {o["email"] for o in traffic.outcomes if o["kind"] == "book"}
    assert "down@example.com" not in saved
    assert booked | {"after@example.com"} <= saved <= tried | {"after@example.com"}
    print(
        f"{len(traffic.outcomes)} requests, {len(failed)} clean 503s, {len(saved)} whole "
        f"bookings, {len(saved - booked) - 1} of them saved although their answer was a 503"
    )


def terminate_other_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity "
            "where datname = current_database() and pid <> pg_backend_pid()"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_killed_connections_cost_clean_errors_at_most_and_no_half_written_booking(
    shop: Shop, stack: Stack
) -> None:
    from bookings.models import Booking
    from coaching.models import OutboundEmail

    base = stack.web.url
    free = starts(120, days_ahead=2)
    spare = free.pop()  # kept for the booking after the faults, however busy the visitors
    times = iter(free)
    lock = threading.Lock()
    outcomes: list[tuple[str, int, bytes]] = []
    stop = threading.Event()
    visits = itertools.count()

    def visitor(n: int) -> None:
        while not stop.is_set():
            with lock:
                start = next(times, None)
            if start is not None and n % 2 == 0:
                status, body = book(base, shop, start, f"visitor{n}@example.com")
                outcomes.append(("book", status, str(body).encode()[:300]))
            # A new query each time (the page cache keys on `q`): a stored page would
            # not reach the database.
            status, page, _ = request(base + f"/search/?q=guide+{next(visits)}", timeout=20)
            outcomes.append(("search", status, page[:300]))

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
    after = [request(base + f"/search/?q=guide+{next(visits)}")[0] for _ in range(10)]
    assert after == [200] * 10
    status, _ = book(base, shop, spare, "after@example.com")
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
