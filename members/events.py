"""Stripe Billing's events, handed over by the store's webhook (store.signals.stripe_event).

Each handler is idempotent and order-independent (members/services.py says how);
one that raises leaves the event pending for the store's sweep to retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from members import services


def _subscription(event: dict[str, Any]) -> str:
    membership = services.apply_subscription(
        subscription=event["data"]["object"], event_created=int(event.get("created") or 0)
    )
    return f"membership {membership.pk} {membership.status}" if membership else "no membership"


def _trial_will_end(event: dict[str, Any]) -> str:
    return services.note_trial_ending(subscription=event["data"]["object"])


def _invoice_paid(event: dict[str, Any]) -> str:
    row = services.record_invoice(invoice=event["data"]["object"])
    return f"invoice {row.stripe_invoice_id} {row.status}"


def _invoice_failed(event: dict[str, Any]) -> str:
    row = services.record_invoice(invoice=event["data"]["object"], failed=True)
    return f"invoice {row.stripe_invoice_id} {row.status}"


HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "customer.subscription.created": _subscription,
    "customer.subscription.updated": _subscription,
    "customer.subscription.deleted": _subscription,
    "customer.subscription.paused": _subscription,
    "customer.subscription.resumed": _subscription,
    "customer.subscription.trial_will_end": _trial_will_end,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
}


def event_types(**extra: Any) -> list[str]:
    return list(HANDLERS)


def handle(event: dict[str, Any], **extra: Any) -> str | None:
    handler = HANDLERS.get(event.get("type", ""))
    return handler(event) if handler else None
