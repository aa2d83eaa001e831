"""Background work of the store. Every task takes ids, claims its row and is safe twice."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from store import emails, pdf, webhooks
from store.models import FileVersion, StampedFile, StripeEvent

log = logging.getLogger(__name__)

EVENT_ATTEMPTS = 10
STAMP_ATTEMPTS = 5
STAMP_BACKOFF_SECONDS = 15


@shared_task
def process_stripe_event(event_pk: int) -> str:
    return webhooks.process(event_pk)


@shared_task
def collect_instalments() -> int:
    from store.instalments import collect_due_instalments

    return collect_due_instalments()


@shared_task
def sweep_store() -> dict[str, int]:
    """Beat's sweep: events and stamps a dead broker or a failure left behind."""
    cutoff = timezone.now() - timedelta(seconds=30)
    event_ids = list(
        StripeEvent.objects.filter(
            processed_at__isnull=True, received_at__lte=cutoff, attempts__lt=EVENT_ATTEMPTS
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:200]
    )
    for event_pk in event_ids:
        webhooks.process(event_pk)
    stamp_ids = list(
        StampedFile.objects.filter(
            status=StampedFile.Status.PENDING, created_at__lte=cutoff, attempts__lt=STAMP_ATTEMPTS
        ).values_list("pk", flat=True)[:100]
    )
    for stamp_pk in stamp_ids:
        stamp_once(stamp_pk)
    return {"events": len(event_ids), "stamps": len(stamp_ids)}


def stamp_once(stamp_pk: int) -> str:
    """One attempt at the buyer's stamped copy: "ready", "retry", "failed" or "skipped".

    The last failed attempt marks the stamp FAILED and emails the coach (once per
    stamp, keyed), in the same transaction that records the failure.
    """
    with transaction.atomic():
        stamp = (
            StampedFile.objects.select_for_update(skip_locked=True)
            .select_related("user", "order", "version")
            .filter(pk=stamp_pk, status=StampedFile.Status.PENDING)
            .first()
        )
        if stamp is None:
            return "skipped"
        try:
            with stamp.version.file.open("rb") as source:
                stamped = pdf.stamp(
                    source.read(),
                    f"Licensed to {stamp.user.email}, order {stamp.order.number}",
                )
        except Exception as error:  # noqa: BLE001 - a broken upload must not loop forever
            log.warning("stamping %s failed: %s", stamp_pk, error)
            if not stamp.record_failure(
                f"{type(error).__name__}: {error}", give_up_after=STAMP_ATTEMPTS
            ):
                return "retry"
            if stamp.mark_coach_told():
                emails.send_stamp_failed(stamp)
            return "failed"
        name = f"stamped/{stamp.user_id}/{stamp.version_id}-{secrets.token_hex(8)}.pdf"
        stamp.file.save(name, ContentFile(stamped), save=False)
        stamp.status = StampedFile.Status.READY
        stamp.ready_at = timezone.now()
        stamp.save(update_fields=["file", "status", "ready_at"])
        if stamp.coach_told_at is not None:
            # The buyer's page promised an email once it is fixed.
            emails.send_stamp_ready(stamp)
    return "ready"


@shared_task(bind=True, max_retries=None)
def stamp_pdf(self: Any, stamp_pk: int) -> str:
    """Write the buyer's stamped copy of one PDF version, retrying with back-off.

    The attempt count lives on the row (not in Celery's message), so the beat
    sweep and this retry loop share one budget of STAMP_ATTEMPTS.
    """
    result = stamp_once(stamp_pk)
    if result == "retry":
        attempts = StampedFile.objects.filter(pk=stamp_pk).values_list("attempts", flat=True)
        raise self.retry(countdown=STAMP_BACKOFF_SECONDS * 2 ** (attempts.first() or 0))
    return result


@shared_task
def announce_version(version_pk: int) -> int:
    """Tell past buyers a file changed and prepare their new stamped copies."""
    from coaching.models import User
    from store.models import Order
    from store.services import owners_of, request_stamp

    version = FileVersion.objects.select_related("product_file__product").filter(pk=version_pk)
    found = version.first()
    if found is None or not found.claim_announcement():
        return 0
    product = found.product_file.product
    product_ids = [product.pk, *product.in_bundles.values_list("pk", flat=True)]
    count = 0
    for user_id, order_id in owners_of(product_ids):
        with transaction.atomic():
            user = User.objects.get(pk=user_id)
            emails.send_new_version(user, found)
            if found.is_pdf:
                request_stamp(user=user, version=found, order=Order.objects.get(pk=order_id))
        count += 1
    return count
