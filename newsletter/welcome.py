"""What confirming brings: a lead magnet in the library, and a welcome sequence.

Lead magnets. A list may name a free store product (say, online access to a
guide). The store grants it (`store.services.grant_free_product`) to the account
for the address (`store.services.buyer_for`, sign-in by emailed code), and the
library at /library/ lists it like a purchase. Granting twice is prevented by
the store's check for an active entitlement, with the subscriber row locked by
the caller (`services.confirm`).

Welcome sequence. Each active step of each list the person confirmed becomes
one row due `delay_hours` after confirmation. Beat sends due rows; each is
taken with SKIP LOCKED and re-checks, at that moment, that the person still
receives the list (confirmed, subscribed, not suppressed).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.apps import apps
from django.db import transaction
from django.utils import timezone

from coaching.markdown import render_markdown, render_text
from newsletter import emails
from newsletter.models import Subscriber, Subscription, WelcomeEmail, WelcomeStep

log = logging.getLogger(__name__)


def _subscribed_lists(subscriber: Subscriber) -> Any:
    return Subscription.objects.filter(
        subscriber=subscriber, status=Subscription.Status.SUBSCRIBED
    ).values("mailing_list")


def _lists_joined_through_their_form(subscriber: Subscriber) -> Any:
    return Subscription.objects.filter(
        subscriber=subscriber, status=Subscription.Status.SUBSCRIBED, via_list_form=True
    ).values("mailing_list")


def grant_lead_magnets(*, subscriber: Subscriber) -> list[Any]:
    """Put the lead magnet of each list the person joined through that list's own
    public form into their library (not lists ticked elsewhere). Returns the new ones."""
    if not apps.is_installed("store"):
        return []
    from newsletter.models import MailingList

    products = [
        m.lead_magnet
        for m in MailingList.objects.filter(
            pk__in=_lists_joined_through_their_form(subscriber), lead_magnet__isnull=False
        ).select_related("lead_magnet")
        if m.lead_magnet is not None and m.lead_magnet.is_active
    ]
    return [p for p in products if grant_free_product(subscriber=subscriber, product=p)]


@transaction.atomic
def grant_free_product(*, subscriber: Subscriber, product: Any) -> bool:
    """A free grant of `product` to the subscriber's account. False if they already have it."""
    from store.services import buyer_for
    from store.services import grant_free_product as grant

    user = subscriber.user or buyer_for(subscriber.email)
    if subscriber.user_id is None:
        subscriber.user = user
        subscriber.save(update_fields=["user"])
    if not grant(user=user, product=product):
        return False
    log.info("lead magnet %s granted to subscriber %s", product.slug, subscriber.pk)
    return True


def schedule_welcome_sequence(*, subscriber: Subscriber) -> int:
    """One row per active step of the person's lists, due after the step's delay."""
    start = subscriber.confirmed_at or timezone.now()
    steps = WelcomeStep.objects.filter(
        is_active=True, mailing_list__in=_subscribed_lists(subscriber)
    )
    made = WelcomeEmail.objects.bulk_create(
        [
            WelcomeEmail(
                step=step,
                subscriber=subscriber,
                due_at=start + dt.timedelta(hours=step.delay_hours),
            )
            for step in steps
        ],
        ignore_conflicts=True,  # confirmed again later: each step goes out once at most
    )
    return len(made)


def send_due_welcome_emails(*, limit: int = 500) -> dict[str, int]:
    """Beat: send due steps to people who still receive the list; skip the others."""
    sent = skipped = 0
    for row_id in (
        WelcomeEmail.objects.due().order_by("due_at").values_list("pk", flat=True)[:limit]
    ):
        with transaction.atomic():
            row = (
                WelcomeEmail.objects.select_for_update(skip_locked=True)
                .due()
                .select_related("step", "subscriber")
                .filter(pk=row_id)
                .first()
            )
            if row is None:
                continue
            step, subscriber = row.step, row.subscriber
            still_there = (
                step.is_active
                and Subscriber.objects.receiving(step.mailing_list_id)
                .filter(pk=subscriber.pk)
                .exists()
            )
            if not still_there:
                row.finish(WelcomeEmail.Status.SKIPPED)
                skipped += 1
                continue
            body_html, _ = render_markdown(step.body)
            emails.welcome_step(
                subscriber,
                key=f"newsletter-welcome-step:{row.pk}",
                subject=step.subject,
                body_html=body_html,
                body=render_text(step.body),
            )
            row.finish(WelcomeEmail.Status.SENT)
            sent += 1
    return {"sent": sent, "skipped": skipped}
