"""The SMTP server refuses connections for a while: mail waits, then goes once; campaigns pause."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from tests.faults.conftest import Shop, Stack, starts
from tests.faults.processes import Worker, base_env, smtp_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

READERS = 30
PAUSE_AFTER = 5


def sweep_outbox_when_due() -> int:
    """Beat's outbox sweep at a minute when its back-off retries a once-failed email."""
    from coaching.tasks import send_pending_outbox

    moment = (timezone.now() + timedelta(minutes=2)).replace(second=5)
    if int(moment.timestamp() // 60) % 2:
        moment += timedelta(minutes=1)
    with time_machine.travel(moment, tick=True):
        return int(send_pending_outbox())


def test_transactional_mail_waits_for_smtp_and_a_campaign_pauses_at_its_threshold(
    shop: Shop, stack: Stack, processes: list[Any], real_celery: None, settings: Any
) -> None:
    from bookings import services
    from coaching.models import OutboundEmail
    from newsletter import services as newsletter
    from newsletter.models import Campaign, Delivery
    from tests.newsletter.factories import CampaignFactory, MailingListFactory, subscribe_many

    stack.smtp.stop()
    env = base_env(
        MEDIA_ROOT=str(stack.media),
        NEWSLETTER_PAUSE_AFTER_ERRORS=str(PAUSE_AFTER),
        NEWSLETTER_RETRY_BASE_SECONDS="1",
        NEWSLETTER_SENDERS_PER_CAMPAIGN="1",
        **smtp_env(stack.smtp),
    )
    processes.append(Worker(env, name="mailer").start())
    for n, start in enumerate(starts(3)):
        with transaction.atomic():
            services.book_slot(
                event_type=shop.event_type, start=start, name=f"Guest {n}",
                email=f"guest{n}@example.com", time_zone="Europe/London",
            )  # fmt: skip
    owed = OutboundEmail.objects.count()
    assert owed == 6
    wait_for(
        lambda: OutboundEmail.objects.filter(attempts__gte=1).count() == owed,
        "the worker to try (and fail) every email",
        timeout=60,
    )
    assert OutboundEmail.objects.filter(status="pending").count() == owed

    weekly = MailingListFactory()
    subscribe_many(weekly, READERS)
    campaign = CampaignFactory(mailing_list=weekly)
    settings.NEWSLETTER_SENDERS_PER_CAMPAIGN = 1
    assert newsletter.start_campaign(campaign=campaign)
    wait_for(
        lambda: Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.PAUSED,
        "the campaign to pause itself",
        timeout=60,
    )
    campaign.refresh_from_db()
    assert campaign.error_count >= PAUSE_AFTER
    assert f"{campaign.error_count} errors" in campaign.pause_reason
    assert not Delivery.objects.filter(campaign=campaign, status="sent").exists()
    assert stack.smtp.count() == 0

    stack.smtp.start()  # the same port again
    assert sweep_outbox_when_due() == owed
    assert sweep_outbox_when_due() == 0
    assert newsletter.resume_campaign(campaign=campaign)
    wait_for(
        lambda: (
            Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.SENT
            or newsletter.dispatch_due() is None
        ),
        "the campaign to finish once SMTP is back",
        timeout=90,
    )
    arrived = stack.smtp.subjects()
    assert max(arrived.values()) == 1, "something was sent twice"
    per_reader = {rcpt for (rcpt, subject) in arrived if subject == campaign.subject}
    assert len(per_reader) == READERS
    assert sum(arrived.values()) == owed + READERS
    assert not OutboundEmail.objects.exclude(status="sent").exists()
