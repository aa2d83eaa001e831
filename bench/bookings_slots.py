"""W3 (shared/peers/WORKLOADS.md): free slots for 60 days, one request, p50/p95.

Seeds the W3 data set under its own coach and event type (`bench-w3`): Monday to
Friday 09:00-17:00 Europe/London, 30-minute slots, no buffers, no notice, 200
bookings on `random.Random(42).sample(...)`, re-anchored to today on every run.
Then times `GET /api/slots/` for today .. today+59 in the coach's zone and in a
visitor's zone (America/New_York), 3 warm-up per server worker (the peer's rule,
which serves from one process) + REPS measured, one JSON line per
figure. Runs against --base URL (a new TCP connection per request, as the peer's
unit) or, by default, in-process through Django's test client. With the peer set
up (shared/peers/setup.sh), runs slots_peer.sh and prints the ratio; otherwise
prints a note. Also fires 50 concurrent POSTs at one slot and counts the answers.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python -m bench.bookings_slots [--reps 30]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import subprocess
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from datetime import time as wall
from http.client import HTTPConnection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT.parent / "shared" / "peers"
SLUG = "bench-w3"
COACH_EMAIL = "bench-w3-coach@example.com"
LONDON = "Europe/London"


def setup_django() -> None:
    from bench.common import setup_django as setup_bench_django

    setup_bench_django()


def seed() -> Any:
    """The W3 data set, re-anchored to today (London), idempotent."""
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from bookings.models import AvailabilityRule, Booking, EventType
    from coaching.models import User

    tz = ZoneInfo(LONDON)
    coach, _ = User.objects.get_or_create(email=COACH_EMAIL, defaults={"name": "Bench coach"})
    with transaction.atomic():
        event_type, _ = EventType.objects.update_or_create(
            slug=SLUG,
            defaults={
                "coach": coach, "name": "Bench discovery call", "summary": "W3",
                "duration_minutes": 30, "start_increment_minutes": 30,
                "minimum_notice_minutes": 0, "horizon_days": 61, "is_active": True,
                "buffer_before_minutes": 0, "buffer_after_minutes": 0, "daily_cap": None,
            },
        )  # fmt: skip
        event_type.rules.all().delete()
        AvailabilityRule.objects.bulk_create(
            AvailabilityRule(
                event_type=event_type, weekday=d, start_time=wall(9), end_time=wall(17)
            )
            for d in range(5)
        )
        Booking.objects.filter(coach=coach).delete()
        today = datetime.now(tz).date()
        candidates = []
        for offset in range(1, 60):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            moment = datetime.combine(day, wall(9))
            while moment.time() < wall(17):
                candidates.append((day, moment.time()))
                moment += timedelta(minutes=30)
        rows = []
        for day, start_time in sorted(random.Random(42).sample(candidates, 200)):
            booking = Booking(
                event_type=event_type, coach=coach, status="confirmed", time_zone=LONDON,
                email="bench@example.com", policy=event_type.policy(),
            )  # fmt: skip
            booking.place(datetime.combine(day, start_time, tzinfo=tz))
            rows.append(booking)
        Booking.objects.bulk_create(rows)
    return event_type


def slots_url(zone: str) -> str:
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(zone)).date()
    query = {"event_type": SLUG, "start": today, "end": today + timedelta(days=59), "tz": zone}
    return "/api/slots/?" + urlencode(query)


def fetch_http(base: str, path: str) -> tuple[int, bytes]:
    parts = urlsplit(base)
    connection = HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def measure(
    zone: str, *, reps: int, base: str | None, max_seconds: float, warmup: int = 3
) -> dict[str, Any]:
    path = slots_url(zone)
    if base is None:
        from django.test import Client

        client = Client()

        def get() -> tuple[int, bytes]:
            response = client.get(path)
            return response.status_code, response.content
    else:

        def get() -> tuple[int, bytes]:
            return fetch_http(base, path)

    times: list[float] = []
    errors = 0
    offered = None
    deadline = time.monotonic() + max_seconds
    for index in range(warmup + reps):
        if time.monotonic() > deadline:
            break
        began = time.perf_counter()
        status, body = get()
        elapsed = (time.perf_counter() - began) * 1000
        if status != 200:
            errors += 1
            continue
        offered = json.loads(body)["count"]
        if index >= warmup:
            times.append(elapsed)
    times.sort()
    return {
        "bench": "bookings_slots", "workload": "W3", "side": "app", "zone": zone,
        "transport": base or "django-test-client", "days": 60, "reps": len(times),
        "p50_ms": round(statistics.median(times), 2) if times else None,
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2) if times else None,
        "min_ms": round(times[0], 2) if times else None,
        "max_ms": round(times[-1], 2) if times else None,
        "slots_offered": offered, "errors": errors,
    }  # fmt: skip


def race(event_type: Any, *, threads: int, base: str) -> dict[str, Any]:
    """N simultaneous POSTs for one slot over HTTP: expect 1 × 201 and N-1 × 409, no errors."""
    from django.utils import timezone

    from bookings.availability import slots_for
    from bookings.models import Booking

    now = timezone.now()
    free = slots_for(event_type, start=now, end=now + timedelta(days=30), now=now)
    start = free[len(free) // 2]
    barrier = threading.Barrier(threads)
    statuses: list[Any] = [None] * threads

    parts = urlsplit(base)
    body = {"event_type": SLUG, "start": start.isoformat(), "time_zone": "Asia/Tokyo"}

    def post(index: int) -> None:
        conn = HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        payload = json.dumps(
            {**body, "name": f"Racer {index}", "email": f"racer{index}@example.com"}
        )
        try:
            barrier.wait(timeout=10)
            conn.request("POST", "/api/bookings/", payload, {"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            statuses[index] = response.status
        except Exception as error:  # noqa: BLE001 - counted as an error
            statuses[index] = type(error).__name__
        finally:
            conn.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=post, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    seconds = time.perf_counter() - began
    counts = Counter(statuses)
    made = Booking.objects.filter(event_type=event_type, start=start).count()
    Booking.objects.filter(event_type=event_type, start=start).exclude(
        email="bench@example.com"
    ).delete()
    return {
        "bench": "bookings_race", "posts": threads, "created_201": counts.get(201, 0),
        "conflict_409": counts.get(409, 0),
        "errors": threads - counts.get(201, 0) - counts.get(409, 0),
        "bookings_in_db": made, "seconds": round(seconds, 3),
    }  # fmt: skip


def run_peer(reps: int) -> dict[str, Any] | None:
    peers_home = Path(os.environ.get("PEERS_HOME", Path.home() / ".cache" / "coaching-peers"))
    script = PEERS / "slots_peer.sh"
    if not script.exists() or not (peers_home / "venvs" / "appointment").exists():
        note = f"peer not set up: run {PEERS}/setup.sh appointment"
        print(json.dumps({"bench": "bookings_slots", "side": "peer", "skipped": note}))
        return None
    try:
        done = subprocess.run(
            [str(script), str(reps)], capture_output=True, text=True, timeout=900, check=False
        )
    except subprocess.TimeoutExpired:
        print(json.dumps({"bench": "bookings_slots", "side": "peer", "skipped": "timed out"}))
        return None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        print(json.dumps({"bench": "bookings_slots", "side": "peer",
                          "skipped": f"slots_peer.sh failed: {done.stderr[-300:]}"}))  # fmt: skip
        return None
    figure: dict[str, Any] = json.loads(lines[-1])
    print(json.dumps({"bench": "bookings_slots", "side": "peer", **figure}))
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--base", help="a running server, e.g. http://127.0.0.1:8201")
    parser.add_argument("--race", type=int, default=50, help="concurrent POSTs (0: skip)")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args()
    args.reps = max(1, min(args.reps, 1000))

    setup_django()
    event_type = seed()
    from bench.common import app_server, emit
    from bookings.availability import coach_zone_name

    if coach_zone_name() != LONDON:
        print(json.dumps({"note": f"coach zone is {coach_zone_name()}, W3 assumes {LONDON}"}))
    figures = {}
    with contextlib.ExitStack() as stack:
        # Over HTTP with a new connection per request, as the peer's unit is measured.
        base = args.base or stack.enter_context(app_server())
        for zone in (LONDON, "America/New_York"):
            figure = measure(
                zone, reps=args.reps, base=base, max_seconds=args.max_seconds, warmup=3 * 4
            )  # 4 gunicorn workers, each warmed as the peer's one process is
            figures[zone] = figure
            print(json.dumps(figure))
        race_result = race(event_type, threads=args.race, base=base) if args.race else None
    if race_result:
        print(json.dumps(race_result))
    peer = None if args.no_peer else run_peer(args.reps)
    for zone, figure in figures.items():
        label = "coach_zone" if zone == LONDON else "visitor_zone"
        peer_p50 = peer.get("p50_ms") if peer else None
        peer_p95 = peer.get("p95_ms") if peer else None
        note = f"{figure['slots_offered']} slots offered" + (
            f", peer {peer.get('slots_offered')}" if peer else ""
        )
        if zone != LONDON:
            note += "; the peer cannot answer in a visitor's zone: ratio against its London unit"
        emit(f"bookings.slots_60_days_{label}_p50", figure["p50_ms"], "ms", better="lower",
             peer=peer_p50, peer_name="django-appointment (60 calls)", target=">= 50x",
             met=bool(peer_p50 and figure["p50_ms"] and peer_p50 / figure["p50_ms"] >= 50),
             note=note)  # fmt: skip
        emit(f"bookings.slots_60_days_{label}_p95", figure["p95_ms"], "ms", better="lower",
             peer=peer_p95, peer_name="django-appointment (60 calls)", target="< 20 ms",
             met=bool(figure["p95_ms"] and figure["p95_ms"] < 20))  # fmt: skip
    if race_result:
        ok = (race_result["created_201"], race_result["errors"]) == (1, 0)
        emit("bookings.race_concurrent_posts_one_slot", race_result["created_201"], "bookings",
             target="1 booking, the rest 409, 0 errors", met=ok,
             note=f"{race_result['posts']} posts: {race_result['conflict_409']} x 409, "
             f"{race_result['errors']} errors")  # fmt: skip


if __name__ == "__main__":
    main()
