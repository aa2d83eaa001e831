"""The machine's own limits, measured in the same run as the other figures.

- a bare Django "hello" under gunicorn with 4 sync workers, loaded by wrk exactly
  as the guide pages are (16 connections): no page of ours can beat it;
- PostgreSQL's `pgbench -S` (select-only) against the machine's server: what the
  database answers per second at most.

    .venv/bin/python -m bench.ceilings
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys

from bench.common import ROOT, SECONDS, emit, free_port, loadgen, wait_http

PGBENCH_DB = "coaching_pgbench"


def hello_ceiling() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "bench.hello_site:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "4", "--worker-class", "sync",
         "--log-level", "warning", "--no-control-socket"],
        cwd=ROOT, start_new_session=True,
    )  # fmt: skip
    try:
        wait_http(f"http://127.0.0.1:{port}/")
        result = loadgen(f"http://127.0.0.1:{port}/")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    emit("ceiling.django_hello", result["rps"], "req/s",
         note=f"gunicorn 4 sync workers, 16 connections; p99 {result['p99_ms']} ms")  # fmt: skip


def pgbench_ceiling() -> None:
    pgbench = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    if not os.path.exists(pgbench):
        emit("ceiling.pgbench_select_only", None, "tps", note="pgbench not installed")
        return
    base = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
    subprocess.run(["createdb", *base, PGBENCH_DB], capture_output=True)
    subprocess.run([pgbench, *base, "-i", "-q", "-s", "10", PGBENCH_DB],
                   capture_output=True, check=True, timeout=300)  # fmt: skip
    out = subprocess.run(
        [pgbench, *base, "-S", "-c", "16", "-j", "2", "-T", str(min(SECONDS, 20)), PGBENCH_DB],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    match = re.search(r"tps = ([\d.]+)", out.stdout)
    emit("ceiling.pgbench_select_only", float(match[1]) if match else None, "tps",
         note="pgbench -S, 16 clients, 2 threads, scale 10, the machine's PostgreSQL")  # fmt: skip


def main() -> int:
    hello_ceiling()
    pgbench_ceiling()
    return 0


if __name__ == "__main__":
    sys.exit(main())
