"""Schemathesis over /api/schema/ against a real gunicorn: no 5xx, no answer outside the schema.

Bounded: a fixed seed, a few examples per operation and a time budget, so CI
runs it every time. A failure prints schemathesis's own report, which names the
operation and the exact request that broke it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.processes import ROOT, WebServer, base_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCHEMATHESIS = Path(ROOT) / ".venv" / "bin" / "st"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    ]
)


@pytest.fixture
def api_server(coach: Any) -> Iterator[WebServer]:
    from coaching.models import CoachProfile
    from tests.bookings.factories import make_event_type
    from tests.guides.factories import GuideFactory

    CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    make_event_type(coach)
    GuideFactory(title="Negotiating an offer in machine learning", slug="negotiating")
    GuideFactory(title="Paid interview loop", slug="paid-loop", visibility="paid")
    server = WebServer(base_env(), workers=2, threads=2).start()
    yield server
    server.stop()


def test_fuzzing_the_api_finds_no_server_error_and_no_answer_outside_the_schema(
    api_server: WebServer, tmp_path: Path
) -> None:
    command = [
        str(SCHEMATHESIS), "run", f"{api_server.url}/api/schema/",
        "--checks", CHECKS,
        "--max-examples", "25",
        "--max-time", "60",
        "--seed", "20250101",
        "--workers", "2",
        "--phases", "examples,coverage,fuzzing",
        "--generation-database", "none",
        "--request-timeout", "10",
        "--suppress-health-check", "too_slow,filter_too_much",
        "--no-color",
        "--report", "junit", "--report-dir", str(tmp_path),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=180, cwd=ROOT)
    report = run.stdout[-12000:] + run.stderr[-3000:]
    assert "operations" in report.lower() or "api operations" in report.lower(), report
    assert run.returncode == 0, report
