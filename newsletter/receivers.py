"""django-anymail webhooks: bounces and complaints feed the suppression list.

The ESP posts to /newsletter/esp/<esp>/tracking/; anymail verifies it and sends
the `tracking` signal. Handlers only write a row or two, so the webhook
answers fast.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from anymail.signals import inbound, tracking
from django.dispatch import receiver

log = logging.getLogger(__name__)

HARD = {"bounced", "rejected", "failed"}
SOFT = {"deferred", "autoresponded"}
UNSUBSCRIBE_SUBJECT = re.compile(r"unsubscribe\s+(\S+)", re.IGNORECASE)


@receiver(tracking, dispatch_uid="newsletter-tracking")
def on_tracking(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    from newsletter import services

    email = (event.recipient or "").strip()
    if not email:
        return
    detail = f"{esp_name}: {event.event_type} {event.reject_reason or ''} {event.description or ''}"
    if event.event_type == "complained":
        services.record_complaint(email=email, detail=detail)
    elif event.event_type == "unsubscribed":
        from newsletter.models import Subscriber

        for subscriber in Subscriber.objects.filter(email_lower=email.lower()):
            services.unsubscribe(subscriber=subscriber, reason=f"{esp_name} unsubscribe")
    elif event.event_type in HARD:
        # A "bounced" event with a temporary reason is an ESP's soft bounce.
        soft = (event.reject_reason or "") in {
            "timed_out",
            "other",
        } and event.event_type != "failed"
        services.record_bounce(email=email, hard=not soft, detail=detail)
    elif event.event_type in SOFT:
        services.record_bounce(email=email, hard=False, detail=detail)


@receiver(inbound, dispatch_uid="newsletter-inbound-unsubscribe")
def on_inbound(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    """The mailto: in List-Unsubscribe: a mail whose subject carries the signed token."""
    from newsletter import services, tokens
    from newsletter.models import Subscriber

    match = UNSUBSCRIBE_SUBJECT.search(event.message.subject or "") if event.message else None
    subscriber_id = tokens.read_subscriber_token(match[1]) if match else None
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first() if subscriber_id else None
    if subscriber is not None:
        services.unsubscribe(subscriber=subscriber, reason=f"{esp_name} mailto")
