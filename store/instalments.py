"""Payment plans at work: collect each instalment when due, and keep the package's
credits in step: released as instalments are paid, paused while one is missed.

Every change runs under the order's row lock, so the events of one plan (Stripe's,
the beat's collector, the buyer's own "pay now") can arrive in any order and twice.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from store import emails, services, stripe_gateway
from store.models import Order
from store.plans import Instalment

log = logging.getLogger(__name__)


def _locked(instalment_pk: int) -> tuple[Order, Instalment] | None:
    found = Instalment.objects.select_related("plan").filter(pk=instalment_pk).first()
    if found is None:
        return None
    order = Order.objects.select_for_update().get(pk=found.plan.order_id)
    return order, Instalment.objects.select_related("plan__order").get(pk=instalment_pk)


def sync_plan_credits(order: Order) -> None:
    """Credits released so far; paused while an instalment is missed, resumed after."""
    plan = order.payment_plan
    if plan is None:
        return
    released = plan.credits_released()
    missed = bool(plan.missed())
    for grant in order.credit_grants.all():
        grant.release_up_to(released)
        if missed:
            grant.pause()
        else:
            grant.resume()


def record_instalment_paid(
    *, instalment_pk: int, payment_intent: str = "", tax_amount: int | None = None
) -> Instalment | None:
    """`tax_amount`: the tax Stripe Tax put inside a "pay now" Checkout's total."""
    with transaction.atomic():
        locked = _locked(instalment_pk)
        if locked is None:
            return None
        order, instalment = locked
        paid_now = instalment.mark_paid(payment_intent=payment_intent)
        if paid_now:
            if order.automatic_tax:
                if tax_amount is not None:
                    instalment.tax_amount = min(tax_amount, instalment.amount)
                    instalment.save(update_fields=["tax_amount"])
                # The order's tax is what its paid instalments carried.
                order.tax_amount = min(instalment.plan.tax_paid, order.total)
                order.save(update_fields=["tax_amount"])
            if instalment.cancelled_at is None:
                sync_plan_credits(order)
                emails.send_instalment_paid(instalment)
    if paid_now and instalment.cancelled_at is not None:
        # Charged while the order was being refunded (the collector's charge was on
        # its way): the money goes back too, nothing is granted for it.
        services.refund_order(order=order, amount=instalment.amount, reason="Order refunded")
    return instalment


def record_instalment_failed(*, instalment_pk: int) -> Instalment | None:
    with transaction.atomic():
        locked = _locked(instalment_pk)
        if locked is None:
            return None
        order, instalment = locked
        if instalment.mark_failed():
            sync_plan_credits(order)
            emails.send_instalment_missed(instalment)
    return instalment


def collect_due_instalments() -> int:
    """Charge the instalments that fell due (beat). Each is claimed once; Stripe's
    answer arrives as an event (recorded once, handled in Celery)."""
    count = 0
    for instalment in Instalment.objects.due_for_collection().select_related("plan__order"):
        if not instalment.plan.order.grants_access or not instalment.claim_collection():
            continue
        try:
            stripe_gateway.charge_instalment(instalment)
        except stripe_gateway.CardDeclined:
            record_instalment_failed(instalment_pk=instalment.pk)
        except stripe_gateway.GatewayError as error:
            # Not the card's fault: release the claim so the next sweep tries again.
            log.warning("instalment %s not collected: %s", instalment.pk, error)
            Instalment.objects.filter(pk=instalment.pk).update(collection_started_at=None)
            continue
        count += 1
    return count


def start_instalment_checkout(*, instalment: Instalment, success_url: str, cancel_url: str) -> str:
    """A Checkout page for the buyer to pay a missed instalment with any card."""
    session = stripe_gateway.create_instalment_checkout_session(
        instalment=instalment, success_url=success_url, cancel_url=cancel_url
    )
    Instalment.objects.filter(pk=instalment.pk).update(stripe_checkout_session_id=session["id"])
    return session["url"]


def instalment_from_event(data: dict[str, Any]) -> int | None:
    value = (data.get("metadata") or {}).get("instalment")
    return int(value) if value and str(value).isdigit() else None
