"""Real Celery workers against a real SMTP server: crash safety and no duplicates."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from newsletter import sending, services
from newsletter.models import Campaign, Delivery
from tests.newsletter.factories import CampaignFactory, subscribe_many

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 2000


def database_url() -> str:
    db = django_settings.DATABASES["default"]
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


class Workers:
    def __init__(self, port: int, extra_env: dict[str, str]) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(port),
            "TESTING": "true",
            **extra_env,
        }
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "coaching", "worker", "--pool=prefork",
                "--concurrency=2", f"--hostname={name}@%h", "--without-gossip",
                "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
            ],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,  # its own process group, so SIGKILL takes the children too
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=5)


@pytest.fixture
def real_celery() -> Iterator[None]:
    import redis

    from coaching.celery import app

    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()  # our own db number
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


def sent_count(campaign: Campaign) -> int:
    return Delivery.objects.filter(campaign=campaign, status="sent").count()


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_send_then_restarted_delivers_exactly_once(
    smtp_sink: Any, real_celery: None
) -> None:
    from tests.newsletter.factories import MailingListFactory

    weekly = MailingListFactory()
    subscribe_many(weekly, RECIPIENTS)
    campaign = CampaignFactory(mailing_list=weekly)
    workers = Workers(smtp_sink.port, {"NEWSLETTER_LEASE_SECONDS": "3"})
    try:
        first = workers.start("first")
        time.sleep(2)  # warm, so the kill lands mid-send rather than at start-up
        assert services.start_campaign(campaign=campaign)
        wait_for(lambda: sent_count(campaign) >= 400, 60, "the send to get going")
        workers.kill(first)
        killed_at = sent_count(campaign)
        assert killed_at < RECIPIENTS, "the kill must land mid-send"
        assert Delivery.objects.filter(campaign=campaign, status="sending").exists()

        workers.start("second")
        time.sleep(3.5)  # the dead worker's lease runs out
        services.dispatch_due()  # what beat does every 30 s
        wait_for(
            lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT,
            90,
            "the campaign to finish",
        )
    finally:
        workers.stop_all()
    time.sleep(0.3)
    counts = smtp_sink.per_recipient()
    assert max(counts.values()) == 1, "a recipient got two messages"
    rows = Delivery.objects.filter(campaign=campaign)
    assert rows.filter(status="sent").count() == RECIPIENTS
    # At most once, so a kill may lose the message whose row was marked sent an
    # instant before its final "." (newsletter/sending.py): at most one per killed
    # connection, and only among the rows left without the server's acknowledgement.
    everyone = set(rows.values_list("subscriber__email_lower", flat=True))
    missing = everyone - set(counts)
    unconfirmed = set(
        rows.filter(accepted_at__isnull=True).values_list("subscriber__email_lower", flat=True)
    )
    assert missing <= unconfirmed, "a message was lost outside the handover window"
    killed_connections = 2 * django_settings.NEWSLETTER_SENDER_THREADS  # two prefork children
    assert len(missing) <= killed_connections
    assert len(unconfirmed) <= killed_connections * sending.ACCEPTED_FLUSH
    assert Campaign.objects.get(pk=campaign.pk).progress()["unconfirmed"] == len(unconfirmed)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_campaign_send_no_duplicates(
    smtp_sink: Any, real_celery: None
) -> None:
    from tests.newsletter.factories import MailingListFactory

    weekly = MailingListFactory()
    subscribe_many(weekly, RECIPIENTS)
    campaign = CampaignFactory(mailing_list=weekly)
    # Four sender slots so both workers' processes really race for the same rows.
    workers = Workers(smtp_sink.port, {"NEWSLETTER_SENDERS_PER_CAMPAIGN": "4",
                                       "NEWSLETTER_BATCH_SIZE": "100"})  # fmt: skip
    try:
        workers.start("one")
        workers.start("two")
        time.sleep(2)
        with django_settings_override(NEWSLETTER_SENDERS_PER_CAMPAIGN=4):
            assert services.start_campaign(campaign=campaign)
            wait_for(
                lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT,
                90,
                "the campaign to finish",
            )
    finally:
        workers.stop_all()
    time.sleep(0.3)
    counts = smtp_sink.per_recipient()
    assert len(counts) == RECIPIENTS
    assert max(counts.values()) == 1
    assert smtp_sink_connections_used(smtp_sink) >= 1


def smtp_sink_connections_used(sink: Any) -> int:
    return len(sink.messages)


def django_settings_override(**values: Any) -> Any:
    from django.test import override_settings

    return override_settings(**values)
