"""Stripe events: receive fast, record once, handle later in Celery.

`receive` is shared by the HTTP view and the simulated provider, so a local
test payment walks exactly the path a real one does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from coaching.hooks import answers
from coaching.tasks import enqueue_on_commit
from store import instalments, services, stripe_gateway
from store.models import Order, StripeEvent
from store.signals import stripe_event, stripe_event_types

log = logging.getLogger(__name__)


def _checkout_completed(session: dict[str, Any]) -> str:
    instalment_pk = instalments.instalment_from_event(session)
    if instalment_pk is not None:  # the buyer paying a missed instalment
        if session.get("payment_status") not in services.PAID_STATUSES:
            return "awaiting payment"
        tax = (session.get("total_details") or {}).get("amount_tax")
        paid = instalments.record_instalment_paid(
            instalment_pk=instalment_pk,
            payment_intent=str(session.get("payment_intent") or ""),
            tax_amount=None if tax is None else int(tax),
        )
        return f"instalment {paid} paid" if paid else "no instalment"
    # An async method (bank debit) completes unpaid; its own event follows.
    order = services.fulfil_checkout(session_id=session["id"], session=session)
    if order is None:
        return "awaiting payment" if session.get("payment_status") == "unpaid" else "no order"
    return f"order {order.number} {order.status}"


def _async_payment_failed(session: dict[str, Any]) -> str:
    order = services.mark_checkout_failed(session_id=session["id"])
    return f"order {order.number} {order.status}" if order else "no order"


def _charge_refunded(charge: dict[str, Any]) -> str:
    order = services.record_charge_refund(charge=charge)
    if order is None:
        raise LookupError("no order for this charge yet")
    return f"order {order.number} {order.status}"


def _dispute(state: str) -> Callable[[dict[str, Any]], str]:
    def handle(dispute: dict[str, Any]) -> str:
        charge = dispute.get("charge")
        charge_data = charge if isinstance(charge, dict) else {}
        charge_data = {
            "payment_intent": dispute.get("payment_intent") or charge_data.get("payment_intent"),
            "metadata": dispute.get("metadata") or charge_data.get("metadata") or {},
        }
        resolved = state
        if state == "closed":
            resolved = Order.Dispute.WON if dispute.get("status") == "won" else Order.Dispute.LOST
        order = services.record_dispute(charge=charge_data, state=resolved)
        if order is None:
            raise LookupError("no order for this dispute yet")
        return f"order {order.number} {order.status}"

    return handle


def _instalment_paid(intent: dict[str, Any]) -> str:
    instalment_pk = instalments.instalment_from_event(intent)
    if instalment_pk is None:
        return "not an instalment"  # a one-off payment: its checkout event fulfils it
    paid = instalments.record_instalment_paid(
        instalment_pk=instalment_pk, payment_intent=str(intent.get("id") or "")
    )
    return f"instalment {paid} paid" if paid else "no instalment"


def _instalment_failed(intent: dict[str, Any]) -> str:
    instalment_pk = instalments.instalment_from_event(intent)
    if instalment_pk is None:
        return "not an instalment"
    failed = instalments.record_instalment_failed(instalment_pk=instalment_pk)
    return f"instalment {failed} missed" if failed else "no instalment"


HANDLERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "checkout.session.completed": _checkout_completed,
    "checkout.session.async_payment_succeeded": _checkout_completed,
    "checkout.session.async_payment_failed": _async_payment_failed,
    "checkout.session.expired": _async_payment_failed,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute(Order.Dispute.OPEN),
    "charge.dispute.closed": _dispute("closed"),
    "charge.dispute.funds_withdrawn": _dispute(Order.Dispute.OPEN),
    "payment_intent.succeeded": _instalment_paid,
    "payment_intent.payment_failed": _instalment_failed,
}


def handled_elsewhere(event_type: str) -> bool:
    """Whether an app above the store (members) handles this type (store/signals.py)."""
    return any(event_type in types for types in answers(stripe_event_types, StripeEvent))


def _handle_elsewhere(event: dict[str, Any]) -> str:
    results = [found for found in answers(stripe_event, StripeEvent, event=event) if found]
    return "; ".join(results) if results else "ignored"


def receive(payload: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
    """Verify, record once, hand to Celery. Returns (HTTP status, JSON body)."""
    try:
        event = stripe_gateway.construct_event(payload, signature)
    except stripe_gateway.InvalidSignature as error:
        return 400, {"error": "invalid signature", "detail": str(error)[:200]}
    handled = event["type"] in HANDLERS or handled_elsewhere(event["type"])
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(
                event_id=event["id"],
                type=event["type"],
                payload=event,
                processed_at=None if handled else timezone.now(),
                result="" if handled else "ignored",
            )
            if handled:
                from store.tasks import process_stripe_event

                enqueue_on_commit(process_stripe_event, row.pk)
    except IntegrityError:
        return 200, {"status": "duplicate"}
    return 200, {"status": "received" if handled else "ignored"}


def process(event_pk: int) -> str:
    """Handle one recorded event. Safe to run twice: the row is claimed, then marked."""
    with transaction.atomic():
        event = (
            StripeEvent.objects.select_for_update(skip_locked=True)
            .filter(pk=event_pk, processed_at__isnull=True)
            .first()
        )
        if event is None:
            return "skipped"
        handler = HANDLERS.get(event.type)
        try:
            with transaction.atomic():
                result = handler(event.data_object) if handler else _handle_elsewhere(event.payload)
        except Exception as error:  # noqa: BLE001 - kept for the sweep to retry
            event.attempts += 1
            event.last_error = f"{type(error).__name__}: {error}"[:2000]
            event.save(update_fields=["attempts", "last_error"])
            log.warning("stripe event %s failed: %s", event.event_id, error)
            return "failed"
        event.processed_at = timezone.now()
        event.result = result[:200]
        event.save(update_fields=["processed_at", "result"])
    return result
