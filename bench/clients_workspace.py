"""The coach's workspace at size: 10,000 contacts and 200,000 timeline events.

Data is generated in SQL (seconds, not minutes); requests go one at a time through
Django's test client signed in as the coach, DEBUG off, against PostgreSQL and Redis
of the machine, in its own database (BENCH_DATABASE_URL, default coaching_bench_clients).
Prints one JSON line per figure: p95 of the contact list, the board, a contact's page
and the dashboard (cached figures), plus the dashboard's cold computation.

    .venv/bin/python bench/clients_workspace.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coaching_bench_clients"
)
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2")

from bench.common import emit, setup_django  # noqa: E402

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "10000"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "200000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "60"))


def generate() -> None:
    from django.db import connection

    from clients.models import Contact, Pipeline

    if Contact.objects.count() >= CONTACTS:
        return
    pipeline = Pipeline.objects.default()
    stages = list(pipeline.stages.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            insert into clients_contact (email, name, time_zone, company, source, source_detail,
                pipeline_id, stage_id, stage_changed_at, lost_reason, created_at, last_activity_at)
            select 'bench' || i || '@example.com', 'Bench Person ' || i, 'Europe/London', '',
                   (array['guide','newsletter','referral','booking'])[1 + i %% 4], '',
                   %s, (%s::bigint[])[1 + i %% %s],
                   now() - (i || ' minutes')::interval, '',
                   now() - (i || ' hours')::interval, now() - (i || ' minutes')::interval
            from generate_series(1, %s) as i
            on conflict (email) do nothing
            """,
            [pipeline.pk, stages, len(stages), CONTACTS],
        )
        cursor.execute(
            """
            insert into clients_stagechange (contact_id, from_stage_id, to_stage_id, at, reason,
                automatic)
            select id, null, stage_id, stage_changed_at, 'bench', true from clients_contact
            """
        )
        cursor.execute(
            """
            insert into clients_task (contact_id, title, due_on, created_at)
            select id, 'Follow up', current_date, now() from clients_contact where id % 5 = 0
            """
        )
        cursor.execute("select min(id), max(id) from clients_contact")
        low, high = cursor.fetchone()
        cursor.execute(
            """
            insert into clients_timelineevent (contact_id, kind, occurred_at, title, detail, link,
                source_type, source_id)
            select %s + (i %% (%s - %s + 1)),
                   (array['guide_view','newsletter','click','booking','note'])[1 + i %% 5],
                   now() - (i || ' minutes')::interval, 'Bench event ' || i, '', '',
                   'bench.event', i
            from generate_series(1, %s) as i
            on conflict do nothing
            """,
            [low, high, low, EVENTS],
        )
    with connection.cursor() as cursor:
        cursor.execute("analyze")


def coach() -> Any:
    from allauth.mfa.totp.internal.auth import TOTP

    from coaching.models import User

    user = User.objects.filter(email="bench-coach@example.com").first()
    if user is None:
        user = User.objects.create_superuser("bench-coach@example.com", "bench-password")
        TOTP.activate(user, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    return user


def p95(client: object, url: str) -> tuple[float, float]:
    timings = []
    for _ in range(5):
        client.get(url)  # type: ignore[attr-defined]
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    timings.sort()
    return timings[int(len(timings) * 0.95) - 1], timings[len(timings) // 2]


def main() -> None:
    setup_django()
    from django.core.management import call_command
    from django.test import Client

    from clients import dashboard
    from clients.models import Contact, TimelineEvent

    call_command("collectstatic", "--no-input", verbosity=0)
    started = time.perf_counter()
    generate()
    generated = time.perf_counter() - started
    contacts, events = Contact.objects.count(), TimelineEvent.objects.count()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(coach())
    busiest = (
        TimelineEvent.objects.values("contact").order_by("contact").first() or {"contact": 1}
    )["contact"]
    note = f"{contacts} contacts, {events} events (generated in {generated:.1f} s); " \
        f"{REQUESTS} sequential requests, test client"  # fmt: skip
    pages = [
        ("clients_contact_list_p95", "/admin/clients/contact/", 150),
        ("clients_board_p95", "/admin/clients/contact/board/", 150),
        ("clients_contact_page_p95", f"/admin/clients/contact/{busiest}/change/", 150),
        ("clients_dashboard_p95", "/admin/", 300),
    ]
    for name, url, target in pages:
        ours, median = p95(client, url)
        emit(name, ours, "ms", better="lower", target=f"< {target} ms", met=ours < target,
             note=f"{note}; p50 {median:.1f} ms")  # fmt: skip
    started = time.perf_counter()
    dashboard.refresh()
    cold = (time.perf_counter() - started) * 1000
    emit("clients_dashboard_cold_figures", cold, "ms", better="lower",
         note="computing every cached aggregate once (beat does this every 4 min)")  # fmt: skip


if __name__ == "__main__":
    main()
