"""The production topology check as a test: `pytest -m production tests/production`.

Deselected by default (it starts a dozen processes for about two minutes);
CI runs it in its own step, as `make prodcheck` does.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.faults.processes import ROOT

pytestmark = pytest.mark.production


def test_the_production_topology_serves_pays_drains_and_sends_exactly_once() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.production"], cwd=ROOT, capture_output=True, text=True,
        timeout=1200,
    )  # fmt: skip
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "prodcheck: every check held" in done.stdout
