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

pytestmark = pytest.mark.slow

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


def schemathesis(server: WebServer, report_dir: Path, *options: str) -> tuple[int, str]:
    """One bounded `st run`; (exit code, its report)."""
    command = [
        str(SCHEMATHESIS), "run", f"{server.url}/api/schema/",
        "--max-examples", "25",
        "--seed", "20250101",
        "--workers", "2",
        "--phases", "examples,coverage,fuzzing",
        "--generation-database", "none",
        "--request-timeout", "10",
        "--suppress-health-check", "too_slow,filter_too_much",
        "--no-color",
        "--report", "junit", "--report-dir", str(report_dir),
        *options,
    ]  # fmt: skip
    # The time limit is ours: schemathesis's --max-time makes fuzzing repeat until it is spent.
    run = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    report = run.stdout[-12000:] + run.stderr[-3000:]
    assert "Tested:" in report, report
    return run.returncode, report


@pytest.mark.django_db(transaction=True)
def test_fuzzing_the_api_finds_no_server_error_and_no_answer_outside_the_schema(
    api_server: WebServer, tmp_path: Path
) -> None:
    code, report = schemathesis(api_server, tmp_path, "--checks", CHECKS)
    assert code == 0, report


def test_the_search_api_documents_its_400_answer(db: None) -> None:
    from django.test import Client

    schema = Client().get("/api/schema/?format=json").json()
    responses = schema["paths"]["/api/guides/search/"]["get"]["responses"]
    assert Client().get("/api/guides/search/?q=").status_code == 400
    assert "400" in responses
