"""W4: one campaign to 10,000 subscribers over SMTP to the peers' sink.

One Celery worker with two prefork processes, warm before timing (WORKLOADS.md).
T0 is just before the service call that the admin's send button makes; T1 is
the sink's `last_ts` once it has counted every recipient. Also printed: how long
that call took (the admin action), the sink's own ceiling with reused
connections (smtp_blast.py, same run), and django-newsletter's figure from
`newsletter_peer.sh` when the peers are set up. Every wait is bounded.

Our send runs BENCH_NEWSLETTER_ROUNDS times (3), each followed by a ceiling
measurement, and the medians are compared (the sink's ceiling alone varies by
a third from run to run on a 2-core machine); the peer, 2.5 minutes a run,
runs once, as WORKLOADS.md allows when said.

The ESP line: the same campaign through the django transport and anymail's real
Postmark backend, posting to bench/esp_sink.py (Postmark's API shape on
127.0.0.1), run BENCH_NEWSLETTER_ESP_ROUNDS times (1), put beside our SMTP figure.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coaching_newsletter_bench"
)
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")

from bench.common import BENCH_ENV, PEERS, PEERS_HOME, ROOT, emit, free_port  # noqa: E402

N = int(os.environ.get("BENCH_NEWSLETTER_N", "10000"))
ROUNDS = int(os.environ.get("BENCH_NEWSLETTER_ROUNDS", "3"))
ESP_ROUNDS = int(os.environ.get("BENCH_NEWSLETTER_ESP_ROUNDS", "1"))
LIMIT = 300  # seconds: no run may take longer
PEER_FIGURE_HERE = 73.8  # README.md, W4 median on this machine, for the note only


def sink_python() -> str:
    peer = PEERS_HOME / "venvs" / "newsletter" / "bin" / "python"
    return str(peer) if peer.exists() else sys.executable


def start_sink(port: int, expect: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sink_python(), str(PEERS / "lib" / "smtp_sink.py"), "--port", str(port),
         "--expect", str(expect), "--linger", "1", "--timeout", str(LIMIT)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        raise RuntimeError(f"SMTP sink did not start: {line!r}")
    return proc


def sink_report(proc: subprocess.Popen[str]) -> dict:
    try:
        out, _ = proc.communicate(timeout=LIMIT + 30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def markdown_from_peer_html() -> str:
    """The peer's 5 KB message as Markdown (campaigns are written in Markdown here)."""
    html = (PEERS / "data" / "newsletter_message.html").read_text()
    html = re.sub(r"<h2>(.*?)</h2>", r"\n\n## \1\n\n", html)
    html = re.sub(r"<h3>(.*?)</h3>", r"\n\n### \1\n\n", html)
    html = re.sub(r"<li>(.*?)</li>", r"\n- \1", html)
    html = re.sub(r"</p>", "\n\n", html)
    return re.sub(r"<[^>]+>", "", html).strip()


def prepare_data() -> int:
    from django.db import connection

    from newsletter.models import Campaign, MailingList, Subscriber, Subscription

    weekly, _ = MailingList.objects.get_or_create(slug="bench-weekly", defaults={"name": "weekly"})
    Campaign.objects.filter(mailing_list=weekly).delete()
    have = Subscriber.objects.filter(email_lower__startswith="subscriber").count()
    if have != N:
        Subscriber.objects.filter(email_lower__startswith="subscriber").delete()
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO newsletter_subscriber (email, email_lower, name, time_zone, status,"
                " consent_source, consent_text, created_at, confirmed_at, soft_bounces)"
                " SELECT e, e, 'Subscriber ' || n, '', 'confirmed', 'bench', '', now(), now(), 0"
                " FROM (SELECT n, format('subscriber%%s@example.com', lpad(n::text, 5, '0')) AS e"
                "       FROM generate_series(1, %s) AS n) AS g",
                [N],
            )
        Subscription.objects.bulk_create(
            [
                Subscription(subscriber_id=pk, mailing_list=weekly)
                for pk in Subscriber.objects.filter(
                    email_lower__startswith="subscriber"
                ).values_list("pk", flat=True)
            ],
            batch_size=5000,
        )
    campaign = Campaign.objects.create(
        subject="This week: AI engineer skills",
        body=markdown_from_peer_html(),
        mailing_list=weekly,
        is_public=False,
    )
    return campaign.pk


def start_esp_sink(port: int, expect: int) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "esp_sink.py"), "--port", str(port),
         "--expect", str(expect), "--linger", "1", "--timeout", str(LIMIT)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY"):
        raise RuntimeError(f"ESP sink did not start: {line!r}")
    return proc


def esp_env(port: int) -> dict[str, str]:
    """The worker's settings for the ESP line: anymail's Postmark backend, our local API."""
    return {
        "EMAIL_BACKEND": "anymail.backends.postmark.EmailBackend",
        "ANYMAIL_POSTMARK_SERVER_TOKEN": "bench-token",
        "ANYMAIL_POSTMARK_API_URL": f"http://127.0.0.1:{port}/",
        "NEWSLETTER_TRANSPORT": "django",
    }


def one_esp_send(port: int) -> dict[str, float]:
    """As one_send, through the ESP stand-in; T1 is its last accepted request."""
    from newsletter import services
    from newsletter.models import Campaign, Delivery

    campaign_id = prepare_data()
    sink = start_esp_sink(port, N)
    campaign = Campaign.objects.get(pk=campaign_id)
    t0 = time.time()
    services.start_campaign(campaign=campaign)
    report = sink_report(sink)
    delivered = report.get("recipients", 0)
    last = report.get("last_ts") or time.time()
    seconds = last - t0
    return {
        "rate": delivered / seconds if seconds > 0 else 0.0,
        "seconds": seconds,
        "delivered": delivered,
        "requests": report.get("requests", 0),
        "connections": report.get("connections", 0),
        "missing_unsubscribe": report.get("missing_unsubscribe", 0),
        "in_ledger": Delivery.objects.filter(campaign_id=campaign_id, status="sent").count(),
        "avg_bytes": report["bytes"] // report["messages"] if report.get("messages") else 0,
    }


def esp_runs(env: dict[str, str], rounds: int) -> list[dict[str, float]]:
    """ESP sends through a worker of their own (EMAIL_BACKEND is read at start-up)."""
    from coaching.celery import app

    port = free_port()
    worker = start_worker({**env, **esp_env(port)})
    runs: list[dict[str, float]] = []
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass
        for _ in range(rounds):
            runs.append(one_esp_send(port))
    finally:
        stop(worker)
    return runs


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "coaching", "worker", "--pool=prefork",
         "--concurrency=2", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--loglevel=WARNING"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def sink_ceiling() -> float | None:
    port = free_port()
    sink = start_sink(port, 5000)
    try:
        out = subprocess.run(
            [sink_python(), str(PEERS / "lib" / "smtp_blast.py"), "--port", str(port),
             "--n", "5000", "--procs", "2", "--reuse"],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        return float(json.loads(out.stdout.strip().splitlines()[-1])["msgs_per_s"])
    finally:
        sink_report(sink)


def peer_figure() -> tuple[float | None, str]:
    if os.environ.get("BENCH_NEWSLETTER_SKIP_PEER"):  # quick iterations on our own figure
        return None, "peer skipped (BENCH_NEWSLETTER_SKIP_PEER)"
    if not (PEERS_HOME / "venvs" / "newsletter").is_dir():
        return None, (
            f"peers not set up ({PEERS}/setup.sh newsletter); the README's figure for "
            f"django-newsletter here is {PEER_FIGURE_HERE} msgs/s"
        )
    try:
        out = subprocess.run(
            ["bash", str(PEERS / "newsletter_peer.sh"), str(N)],
            capture_output=True, text=True, timeout=LIMIT + 120, check=True,
        )  # fmt: skip
    except (subprocess.SubprocessError, OSError) as error:
        return None, f"peer run failed: {error}"
    line = json.loads(out.stdout.strip().splitlines()[-1])
    return float(line["msgs_per_s"]), "django-newsletter: one process, a connection per message"


def one_send(port: int) -> dict[str, float]:
    """One campaign to N subscribers through the running worker, timed as W4 says."""
    from newsletter import services
    from newsletter.models import Campaign, Delivery

    campaign_id = prepare_data()
    sink = start_sink(port, N)
    campaign = Campaign.objects.get(pk=campaign_id)
    t0 = time.time()
    services.start_campaign(campaign=campaign)
    call_ms = (time.time() - t0) * 1000
    report = sink_report(sink)
    delivered = report.get("recipients", 0)
    last = report.get("last_ts") or time.time()
    seconds = last - t0
    return {
        "rate": delivered / seconds if seconds > 0 else 0.0,
        "seconds": seconds,
        "first": (report.get("first_ts") or last) - t0,
        "delivered": delivered,
        "messages": report.get("messages", 0),
        "connections": report.get("connections", 0),
        "in_ledger": Delivery.objects.filter(campaign_id=campaign_id, status="sent").count(),
        "avg_bytes": report["bytes"] // report["messages"] if report.get("messages") else 0,
        "call_ms": call_ms,
    }


def main() -> None:
    from bench.common import setup_django

    setup_django()
    from django.db import close_old_connections

    from coaching.celery import app

    prepare_data()
    close_old_connections()
    port = free_port()
    env = {
        **os.environ,
        **BENCH_ENV,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "coaching.settings",
    }
    import redis

    redis.Redis.from_url(app.conf.broker_url).flushdb()  # this bench's own Redis db
    worker = start_worker(env)
    runs: list[dict[str, float]] = []
    ceilings: list[float] = []
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass
        from django.conf import settings
        from django.core.mail import mailers  # noqa: F401 - the service call imports it anyway

        settings.EMAIL_PORT = port
        from newsletter.tasks import send_confirmation_reminders_task

        send_confirmation_reminders_task.delay()  # warms the broker connection, as in a live admin
        # Our send and the sink's ceiling alternate, so that both see the same machine.
        for _ in range(ROUNDS):
            runs.append(one_send(port))
            ceiling = sink_ceiling()
            if ceiling:
                ceilings.append(ceiling)
    finally:
        stop(worker)
    esp = esp_runs(env, ESP_ROUNDS) if ESP_ROUNDS else []
    middle = sorted(runs, key=lambda run: run["rate"])[len(runs) // 2]
    rate = middle["rate"]
    ceiling = statistics.median(ceilings) if ceilings else None
    rounds = ", ".join(f"{run['rate']:.0f}" for run in runs)
    peer, peer_note = peer_figure()
    emit(
        "newsletter_send_rate",
        rate,
        "msgs/s",
        peer=peer,
        peer_name="django-newsletter",
        target=">= 5x peer and >= 75% of the sink ceiling",
        met=(rate >= 5 * peer if peer else None),
        note=f"{peer_note} (run once); ours: median of {len(runs)} sends ({rounds} msgs/s), "
        f"1 worker x 2 processes, reused SMTP connections; avg message "
        f"{middle['avg_bytes']:.0f} bytes over {middle['connections']:.0f} connections",
    )
    emit(
        "newsletter_send_seconds",
        middle["seconds"],
        "s",
        better="lower",
        note=f"{N} recipients; first message {middle['first']:.2f} s after the send started",
    )
    emit(
        "newsletter_send_delivered",
        min(run["delivered"] for run in runs),
        "recipients",
        target=f"== {N} in every send",
        met=all(run["delivered"] == run["in_ledger"] == N for run in runs),
        note="per send, sink recipients / ledger sent: "
        + ", ".join(f"{run['delivered']:.0f}/{run['in_ledger']:.0f}" for run in runs),
    )
    if ceiling:
        # Each send against the ceiling measured right after it, so that both see the
        # machine in the same state (its speed drifts by a third within minutes here).
        paired = sorted(100 * run["rate"] / c for run, c in zip(runs, ceilings, strict=False) if c)
        share = paired[len(paired) // 2]
        emit(
            "newsletter_send_vs_sink_ceiling",
            share,
            "% of sink ceiling",
            target=">= 75",
            met=share >= 75,
            note=f"median of each send over the ceiling measured right after it "
            f"({', '.join(f'{p:.0f}' for p in paired)} %); ceilings "
            f"{', '.join(f'{c:.0f}' for c in ceilings)} msgs/s (smtp_blast.py, 2 procs, "
            f"reused); median over median: {100 * rate / ceiling:.0f} %",
        )
    if esp:
        esp_middle = sorted(esp, key=lambda run: run["rate"])[len(esp) // 2]
        esp_rates = ", ".join(f"{run['rate']:.0f}" for run in esp)
        emit(
            "newsletter_send_esp_rate",
            esp_middle["rate"],
            "msgs/s",
            peer=rate,
            peer_name="our smtp transport, same run",
            note=f"django transport, anymail's Postmark backend posting to bench/esp_sink.py "
            f"(127.0.0.1, one message a request over {esp_middle['connections']:.0f} "
            f"connections); median of {len(esp)} sends "
            f"({esp_rates} msgs/s); "
            f"ratio = ESP / SMTP (lower than 1 means the ESP path is slower)",
        )
        emit(
            "newsletter_send_esp_delivered",
            min(run["delivered"] for run in esp),
            "recipients",
            target=f"== {N} in every send, each with List-Unsubscribe",
            met=all(
                run["delivered"] == run["in_ledger"] == N and not run["missing_unsubscribe"]
                for run in esp
            ),
            note="per send, ESP recipients / ledger sent: "
            + ", ".join(f"{run['delivered']:.0f}/{run['in_ledger']:.0f}" for run in esp),
        )
    emit(
        "newsletter_start_send_ms",
        max(run["call_ms"] for run in runs),
        "ms",
        better="lower",
        target="< 200",
        met=all(run["call_ms"] < 200 for run in runs),
        note=f"the admin's send action for {N} recipients, slowest of {len(runs)} "
        "(ledger filled by a task)",
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
