"""Shared pieces of the benchmarks: the app under gunicorn, the peers, wrk, and the output.

Every figure is one JSON line from `emit()`:
  {"name", "ours", "peer", "peer_name", "ratio", "unit", "target", "met", "note"}
Load goes to 127.0.0.1 only; every server started here is stopped here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coaching.launcher import free_port

ROOT = Path(__file__).resolve().parent.parent
PEERS = Path(os.environ.get("PEERS_DIR", ROOT.parent / "shared" / "peers"))
PEERS_HOME = Path(os.environ.get("PEERS_HOME", Path.home() / ".cache" / "coaching-peers"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
CONNECTIONS = 16

# The same server shape as the peers (WORKLOADS.md): PostgreSQL 15 and Redis 7 of
# the machine, gunicorn with 4 sync workers, DEBUG off, no access log.
BENCH_ENV = {
    "DATABASE_URL": os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coaching_bench"
    ),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
    "DEBUG": "false",
    "TESTING": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "ERROR",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    # wrk sends everything from 127.0.0.1: the limits are raised, not switched off, so
    # every search and booking still pays for its counter.
    "THROTTLE_SEARCHES_PER_IP": "100000000",
    "THROTTLE_BOOKINGS_PER_IP": "100000000",
    "THROTTLE_BOOKINGS_PER_EMAIL": "100000000",
    "THROTTLE_SLOT_HOLDS_PER_IP": "100000000",
    "THROTTLE_CHECKOUTS_PER_IP": "100000000",
    "THROTTLE_CHECKOUTS_PER_EMAIL": "100000000",
    "THROTTLE_VIEWS_PER_IP": "100000000",
}


def emit(
    name: str,
    ours: float | None,
    unit: str,
    *,
    peer: float | None = None,
    peer_name: str | None = None,
    target: str | None = None,
    met: bool | None = None,
    better: str = "higher",
    note: str = "",
) -> dict[str, Any]:
    """Print one figure. The ratio is always 'how many times better are we'."""
    ratio = None
    if ours and peer:
        ratio = round(ours / peer if better == "higher" else peer / ours, 2)
    line = {
        "name": name,
        "ours": None if ours is None else round(ours, 2),
        "unit": unit,
        "peer": None if peer is None else round(peer, 2),
        "peer_name": peer_name,
        "ratio": ratio,
        "target": target,
        "met": met,
        "note": note,
    }
    print(json.dumps(line), flush=True)
    return line


def wait_http(url: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def setup_django() -> None:
    os.environ.update(BENCH_ENV)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coaching.settings")
    sys.path.insert(0, str(ROOT))
    ensure_database(BENCH_ENV["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    base = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'create database "{name}"')


@contextlib.contextmanager
def app_server(workers: int = 4) -> Iterator[str]:
    """Our app under gunicorn (4 sync workers, as the peers), on a free loopback port."""
    port = free_port()
    env = {**os.environ, **BENCH_ENV, "DJANGO_SETTINGS_MODULE": "coaching.settings"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "coaching.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "sync", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz")
        wait_idle(proc.pid)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _cpu_seconds_of_children(pid: int) -> float:
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    for child in children:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wait_idle(pid: int, timeout: float = 60) -> None:
    """Until a server's workers have finished starting (their CPU use stops), bounded.

    The first worker answers /healthz while the others may still be importing
    the app; measuring then would time our start-up, not our pages.
    """
    deadline = time.monotonic() + timeout
    before = _cpu_seconds_of_children(pid)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = _cpu_seconds_of_children(pid)
        if now - before < 0.03:
            return
        before = now


def peers_ready(*names: str) -> bool:
    return all((PEERS_HOME / "venvs" / name).is_dir() for name in names)


@contextlib.contextmanager
def peer_server(peer: str) -> Iterator[str]:
    port = free_port()
    out = subprocess.run(
        ["bash", str(PEERS / "serve.sh"), peer, str(port)],
        capture_output=True, text=True, timeout=180, check=True,
    )  # fmt: skip
    pid = out.stdout.strip().splitlines()[-1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        subprocess.run(["bash", str(PEERS / "stop.sh"), pid], capture_output=True, timeout=60)


def loadgen(url: str, *, seconds: int = SECONDS, headers: dict[str, str] | None = None) -> dict:
    """wrk through the peers' loadgen.sh (same warm-up, threads and report for both sides)."""
    if not headers:
        out = subprocess.run(
            ["bash", str(PEERS / "loadgen.sh"), url, str(seconds), str(CONNECTIONS)],
            capture_output=True, text=True, timeout=seconds + 120, check=True,
        )  # fmt: skip
        return dict(json.loads(out.stdout.strip().splitlines()[-1]))
    # loadgen.sh takes no headers: the same wrk call with them (signed-in pages).
    extra = [arg for key, value in headers.items() for arg in ("-H", f"{key}: {value}")]
    base = ["wrk", "-t2", f"-c{CONNECTIONS}", "--timeout", "10s", *extra]
    subprocess.run([*base, "-d5s", url], capture_output=True, timeout=60)
    out = subprocess.run(
        [*base, f"-d{seconds}s", "--latency", "-s", str(PEERS / "lib" / "wrk_report.lua"), url],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    )  # fmt: skip
    line = next(x for x in out.stdout.splitlines() if x.startswith('{"rps"'))
    return dict(json.loads(line))


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def sequential_latency(
    url: str, requests: int = 200, headers: dict[str, str] | None = None
) -> dict:
    """One client, one request at a time: the latency a single reader sees."""
    timings: list[float] = []
    for _ in range(10):  # warm-up
        _get(url, headers)
    deadline = time.monotonic() + 120
    for _ in range(requests):
        if time.monotonic() > deadline:
            break
        started = time.perf_counter()
        _get(url, headers)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "p50_ms": timings[len(timings) // 2],
        "p95_ms": timings[int(len(timings) * 0.95) - 1],
        "requests": len(timings),
    }


def _get(url: str, headers: dict[str, str] | None) -> bytes:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - loopback only
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return bytes(response.read())
