"""Background work of the site itself: the transactional email outbox."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from coaching.emails import outbound_message
from coaching.models import OutboundEmail

log = logging.getLogger(__name__)

GIVE_UP_AFTER = 8


def enqueue(task: Any, *args: Any) -> bool:
    """Hand work to Celery; if the broker is down, say so and let beat retry.

    The work itself is already recorded in the database by the caller, so a
    failed enqueue delays it rather than losing it (DESIGN.md rule 5).
    """
    try:
        task.delay(*args)
    except Exception as error:  # noqa: BLE001 - any broker failure means "later"
        log.warning("could not enqueue %s%r: %s; beat will pick it up", task.name, args, error)
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    transaction.on_commit(lambda: enqueue(task, *args))


@shared_task
def send_outbound_email(email_id: int) -> str:
    """Send one recorded email. Safe to run twice: the row is claimed and re-checked.

    The row stays locked while the message goes out and is marked sent in the same
    transaction. A worker killed between the SMTP answer and the commit leaves it
    pending, so that one email can go out twice: for receipts and invitations a rare
    duplicate is the right side to err on (a lost one is worse). The newsletter,
    where volume makes the other trade-off right, sends at most once instead.
    """
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return "skipped"
        try:
            outbound_message(email).send()
        except Exception as error:  # noqa: BLE001 - SMTP and ESP errors vary
            email.mark_attempt_failed(str(error), give_up_after=GIVE_UP_AFTER)
            log.warning("email %s failed (attempt %s): %s", email.pk, email.attempts, error)
            return "failed"
        email.mark_sent()
    return "sent"


@shared_task
def send_pending_outbox(limit: int = 500) -> int:
    """Beat's sweep: send what a dead broker or SMTP server left pending.

    Rows just created are left to their own task; failed attempts back off.
    """
    now = timezone.now()
    ids = list(
        OutboundEmail.objects.pending()
        .filter(created_at__lte=now - timedelta(seconds=30))
        .order_by("created_at")
        .values_list("pk", "attempts")[:limit]
    )
    sent = 0
    for email_id, attempts in ids:
        # Exponential back-off in sweeps: retry attempt n after 2**n sweeps.
        if attempts and int(now.timestamp() // 60) % (2 ** min(attempts, 6)) != 0:
            continue
        if send_outbound_email(email_id) == "sent":
            sent += 1
    return sent


@shared_task
def purge_throttle_counters() -> int:
    """Beat's daily clean-up of rate-limit windows that ended long ago."""
    from coaching import throttles

    return throttles.purge_expired()
