"""`make run` end to end: embedded services, demo data, web + worker + beat, clean Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from coaching.launcher import free_port

ROOT = Path(__file__).resolve().parents[2]


def processes_with(marker: str) -> list[int]:
    """PIDs whose environment carries our data folder: every process the run started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


NEW_GUIDE = """---
title: "Zebracorn salary talks"
slug: zebracorn-salary-talks
category: "Strategic Career Planning"
summary: "A summary."
read_time_minutes: 3
kind: article
published: 2025-03-04
suggested_access: free
---

## Start

Hello.
"""


def new_titles_on_the_hub(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if b"Zebracorn salary talks" in get(f"http://127.0.0.1:{port}/guides/")[1]:
            return True
        time.sleep(0.1)
    return False


# One run for all three: starting the platform is most of this test's time.
@pytest.mark.slow
def test_make_run_serves_the_site_shares_its_services_with_make_manage_and_ctrl_c_leaves_nothing(
    tmp_path,
):
    data_dir = tmp_path / "data"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(COACHING_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    log = (tmp_path / "run.log").open("wb")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "coaching.launcher", "run", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and launcher.poll() is None:
            try:
                status, body = get(f"http://127.0.0.1:{port}/healthz")
                health = json.loads(body)
                if status == 200 and health["broker"]["status"] == "up":
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.5)
        output = (tmp_path / "run.log").read_text()
        assert health is not None, output
        assert {health[name]["status"] for name in ("database", "cache", "broker")} == {"up"}
        status, body = get(f"http://127.0.0.1:{port}/")
        assert status == 200 and b"Book a discovery call" in body
        assert "password" in output and "coach@example.com" in output
        assert len(processes_with(str(data_dir))) >= 6  # launcher, pg, redis, web, worker, beat
        assert json.loads((data_dir / "services.json").read_text())["pid"] == launcher.pid

        assert not new_titles_on_the_hub(port, 0)  # and the hub is now in the page cache
        assert get(f"http://127.0.0.1:{port}/guides/")[0] == 200
        guides = tmp_path / "guides"
        guides.mkdir()
        (guides / "zebracorn-salary-talks.md").write_text(NEW_GUIDE)
        managed = subprocess.run(
            [sys.executable, "-m", "coaching.launcher", "manage", "import_guides", str(guides)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert managed.returncode == 0, managed.stdout + managed.stderr
        assert "running instance" in managed.stdout and "embedded Redis" not in managed.stdout
        # Each process re-reads the content version once a second (coaching/pagecache.py).
        assert new_titles_on_the_hub(port, 2.5)
    finally:
        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=60)
    time.sleep(0.5)
    assert processes_with(str(data_dir)) == [], (tmp_path / "run.log").read_text()[-3000:]
    assert not (data_dir / "services.json").exists()


def test_without_python_312_the_bootstrap_says_what_to_install_in_one_sentence(tmp_path):
    # A PATH holding only a python3 that is not 3.12: the same answer on any machine.
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "python3").write_text("#!/bin/sh\nexit 1\n")
    (stubs / "python3").chmod(0o755)
    result = subprocess.run(
        ["/bin/sh", str(ROOT / "bin" / "find-python")],
        env={"PATH": str(stubs), "HOME": str(tmp_path)},
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "needs Python 3.12" in lines[0] and "install" in lines[0]
    assert "Traceback" not in result.stderr


def test_the_install_step_trusts_the_system_certificate_store_with_a_uv_that_knows_how():
    """Behind a TLS-inspecting proxy uv's bundled roots fail where pip succeeds."""
    planned = subprocess.run(
        ["make", "--dry-run", "--always-make", ".venv/.installed"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    uv_install = next(line for line in planned.splitlines() if "uv pip install" in line)
    assert "--system-certs" in uv_install.split()
    assert '"uv>=0.11"' in planned  # the first uv release with the flag
    uv_help = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "uv"), "pip", "install", "--help"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "--system-certs" in uv_help
