"""W4: one campaign to 10,000 subscribers over SMTP to the peers' sink.

One Celery worker with two prefork processes, warm before timing (WORKLOADS.md).
T0 is just before the service call that the admin's send button makes; T1 is
the sink's `last_ts` once it has counted every recipient. Also printed: how long
that call took (the admin action), the sink's own ceiling with reused
connections (smtp_blast.py, same run), and django-newsletter's figure from
`newsletter_peer.sh` when the peers are set up. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

os.environ.setdefault(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/coaching_newsletter_bench"
)
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")

from bench.common import BENCH_ENV, PEERS, PEERS_HOME, ROOT, emit, free_port  # noqa: E402

N = int(os.environ.get("BENCH_NEWSLETTER_N", "10000"))
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


def main() -> None:
    from bench.common import setup_django

    setup_django()
    from django.db import close_old_connections

    from coaching.celery import app
    from newsletter import services
    from newsletter.models import Campaign, Delivery

    campaign_id = prepare_data()
    close_old_connections()
    port = free_port()
    sink = start_sink(port, N)
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
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(timeout=0.5) and time.monotonic() < deadline:
            pass
        from django.conf import settings
        from django.core.mail import mailers  # noqa: F401 - the service call imports it anyway

        settings.EMAIL_PORT = port
        from newsletter.tasks import send_confirmation_reminders

        send_confirmation_reminders.delay()  # warms the broker connection, as in a live admin
        campaign = Campaign.objects.get(pk=campaign_id)
        t0 = time.time()
        services.start_campaign(campaign=campaign)
        call_ms = (time.time() - t0) * 1000
        report = sink_report(sink)
    finally:
        stop(worker)
    delivered = report.get("recipients", 0)
    last = report.get("last_ts") or time.time()
    seconds = last - t0
    rate = delivered / seconds if seconds > 0 else 0.0
    duplicates = delivered - Delivery.objects.filter(campaign_id=campaign_id, status="sent").count()
    avg = report["bytes"] // report["messages"] if report.get("messages") else 0
    ceiling = sink_ceiling()
    peer, peer_note = peer_figure()
    emit(
        "newsletter_send_rate",
        rate,
        "msgs/s",
        peer=peer,
        peer_name="django-newsletter",
        target=">= 5x peer and >= 75% of the sink ceiling",
        met=(rate >= 5 * peer if peer else None),
        note=f"{peer_note}; ours: 1 worker x 2 processes, reused SMTP connections; "
        f"avg message {avg} bytes over {report.get('connections')} connections",
    )
    first = (report.get("first_ts") or last) - t0
    emit(
        "newsletter_send_seconds",
        seconds,
        "s",
        better="lower",
        note=f"{N} recipients; first message {first:.2f} s after the send started",
    )
    emit(
        "newsletter_send_delivered",
        delivered,
        "recipients",
        target=f"== {N}",
        met=delivered == N,
        note=f"sink messages {report.get('messages')}; ledger says sent {delivered - duplicates}",
    )
    if ceiling:
        emit(
            "newsletter_send_vs_sink_ceiling",
            100 * rate / ceiling,
            "% of sink ceiling",
            target=">= 75",
            met=rate >= 0.75 * ceiling,
            note=f"sink ceiling {ceiling:.0f} msgs/s (smtp_blast.py, 2 procs, reused)",
        )
    emit(
        "newsletter_start_send_ms",
        call_ms,
        "ms",
        better="lower",
        target="< 200",
        met=call_ms < 200,
        note=f"the admin's send action for {N} recipients (ledger filled by a task)",
    )


if __name__ == "__main__":
    main()
    sys.exit(0)
