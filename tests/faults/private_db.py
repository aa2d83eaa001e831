"""A PostgreSQL cluster of one test's own, which the test may stop and start at will.

The suite's test database lives in a cluster every test shares, so the test that
restarts PostgreSQL serves the app from a private cluster in a temporary folder,
made and run by the launcher's own functions (`make run` starts its cluster the
same way). This process's Django connection points at the suite's database, so
what the test writes into the private cluster goes through Django in a child
process (`in_django`), and what it reads back comes straight from PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from coaching.launcher import (
    create_database,
    free_port,
    init_cluster,
    port_answers,
    start_cluster,
    stop_cluster,
)
from tests.faults.processes import PYTHON, ROOT, wait_for

# Every booking with what it owes, as rows: reminders ("kind-minutes") and outbox
# keys without their "bookings-<id>-" prefix, both sorted.
AUDIT = """
select b.email, b.status,
       array(select r.kind || '-' || r.offset_minutes from bookings_bookingreminder r
             where r.booking_id = b.id order by 1),
       array(select substr(e.key, length(b.id::text) + 11) from coaching_outboundemail e
             where e.key like 'bookings-' || b.id || '-%' order by 1)
from bookings_booking b order by b.id
"""
# Outbox rows of bookings that do not exist: what a booking rolled back half-way would leave.
ORPHAN_EMAILS = """
select e.key from coaching_outboundemail e where e.key like 'bookings-%' and not exists
    (select 1 from bookings_booking b where e.key like 'bookings-' || b.id || '-%')
"""


class PostgresServer:
    """`postgres` for a cluster in `folder`, on 127.0.0.1 and the same free port each start."""

    def __init__(self, folder: Path) -> None:
        self.pgdata = folder / "pgdata"
        self.log = folder / "postgres.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, name: str = "coaching") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> PostgresServer:
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            init_cluster(self.pgdata)
        self.proc = start_cluster(self.pgdata, self.port, self.log)
        if fresh:
            create_database(self.port, "coaching")
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """A fast shutdown (`pg_ctl stop -m fast`): open transactions roll back, clients drop."""
        if self.proc is not None:
            stop_cluster(self.proc)
        wait_for(lambda: not port_answers(self.port), "PostgreSQL to stop", timeout=20)

    def audit_bookings(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Every booking with what it owes, and the outbox rows of bookings that do not exist."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            rows = conn.execute(AUDIT).fetchall()
            orphans = [key for (key,) in conn.execute(ORPHAN_EMAILS)]
        bookings = [
            {"email": email, "status": status, "reminders": reminders, "emails": emails}
            for email, status, reminders, emails in rows
        ]
        return bookings, orphans


def in_django(env: dict[str, str], function: str) -> Any:
    """Run `function` of this module in a Django child process with `env`; its JSON result."""
    code = (
        "import json, django; django.setup(); "
        f"from tests.faults.private_db import {function}; "
        f"print(json.dumps({function}()))"
    )
    done = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, f"{function} failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- Run inside the child process ----------------------------------------------------


def migrate_and_seed() -> dict[str, str]:
    """The schema, then the little shop the visitors use: a coach, guides, a free call."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", interactive=False, verbosity=0)

    from coaching.models import CoachProfile
    from guides.models import Category, Guide
    from tests.bookings.factories import make_event_type
    from tests.conftest import make_user

    coach = make_user("coach@example.com", staff=True, name="Alex Morgan")
    CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    category = Category.objects.create(name="Interviews", slug="interviews")
    for n in range(3):
        Guide.objects.create(
            title=f"Guide {n}", slug=f"guide-{n}", summary="A guide.", category=category,
            body=f"## Part {n}\n\nText of guide {n}.", visibility="public", status="published",
            published_at=timezone.now() - timedelta(days=1),
        )  # fmt: skip
    return {"event_type": make_event_type(coach, slug="discovery-call").slug}
