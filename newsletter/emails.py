"""The newsletter's transactional emails (through the site's outbox), one function each.

Campaigns themselves do not go through the outbox: they have their own ledger
(see newsletter/sending.py).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone

from coaching.emails import queue_email
from newsletter import tokens
from newsletter.models import Subscriber, Subscription
from newsletter.rendering import absolute


def _links(subscriber: Subscriber) -> dict[str, str]:
    token = tokens.subscriber_token(subscriber.pk)
    return {
        "preferences_url": absolute(reverse("newsletter:preferences", args=[token])),
        "unsubscribe_url": absolute(reverse("newsletter:unsubscribe", args=[token])),
    }


def _confirm_url(subscriber: Subscriber) -> str:
    return absolute(reverse("newsletter:confirm", args=[tokens.confirm_token(subscriber.pk)]))


def confirm_subscription(subscriber: Subscriber) -> None:
    stamp = int(timezone.now().timestamp())
    queue_email(
        key=f"newsletter-confirm:{subscriber.pk}:{stamp}",
        to=subscriber.email,
        template="newsletter-confirm",
        context={"subscriber": subscriber, "confirm_url": _confirm_url(subscriber)},
    )


def confirmation_reminder(subscriber: Subscriber) -> None:
    queue_email(
        key=f"newsletter-reminder:{subscriber.pk}:{subscriber.confirmation_sent_at}",
        to=subscriber.email,
        template="newsletter-reminder",
        context={"subscriber": subscriber, "confirm_url": _confirm_url(subscriber)},
    )


def welcome(subscriber: Subscriber, *, granted: list[Any] | None = None) -> None:
    """`granted`: lead magnets just put in the subscriber's library (store products)."""
    queue_email(
        key=f"newsletter-welcome:{subscriber.pk}:{subscriber.confirmed_at}",
        to=subscriber.email,
        template="newsletter-welcome",
        context={
            "subscriber": subscriber,
            "lists": [
                s.mailing_list
                for s in subscriber.subscriptions.select_related("mailing_list")
                if s.status == Subscription.Status.SUBSCRIBED
            ],
            "archive_url": absolute(reverse("newsletter:archive")),
            "granted": granted or [],
            "library_url": absolute("/library/"),
            **_links(subscriber),
        },
    )


def already_subscribed(subscriber: Subscriber) -> None:
    hour = timezone.now().strftime("%Y%m%d%H")
    queue_email(
        key=f"newsletter-already:{subscriber.pk}:{hour}",
        to=subscriber.email,
        template="newsletter-already",
        context={"subscriber": subscriber, **_links(subscriber)},
    )


def welcome_step(
    subscriber: Subscriber, *, key: str, subject: str, body_html: str, body: str
) -> None:
    """One email of a welcome sequence, with the same one-click unsubscribe as campaigns."""
    from newsletter.rendering import unsubscribe_mailto

    links = _links(subscriber)
    token = tokens.subscriber_token(subscriber.pk)
    queue_email(
        key=key,
        to=subscriber.email,
        template="newsletter-welcome-step",
        context={"subject": subject, "body_html": body_html, "body_text": body, **links},
        headers={
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>, <{unsubscribe_mailto(token)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
