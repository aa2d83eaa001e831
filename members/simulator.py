"""The simulated provider's subscriptions: what Stripe Billing would do, on a clock we move.

Checkout, renewals, trials ending, failed payments, plan changes and cancellations
happen here and reach the app only as signed webhook events through the store's
`receive`, exactly as Stripe's would. `manage.py billing_clock --days N` moves the
clock. Off whenever store.stripe_gateway is not simulating (a Stripe key is set, or
in production).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core import signing
from django.db import transaction
from django.urls import reverse

from coaching.models import User
from members import clock
from members.models import (
    Interval,
    Membership,
    SimulatedClock,
    SimulatedSubscription,
    Status,
    Tier,
)
from store import stripe_gateway
from store.stripe_gateway import GatewayError

CHECKOUT_SALT = "members.simulated-checkout"
CHECKOUT_MAX_AGE = 60 * 60
TRIAL_WARNING = dt.timedelta(days=3)  # Stripe sends trial_will_end three days ahead
# After this long past due (Stripe's retries exhausted) the subscription turns unpaid.
RETRY_WINDOW = dt.timedelta(days=14)
ENDED = [Status.CANCELED, Status.INCOMPLETE_EXPIRED]


def _require() -> None:
    if not stripe_gateway.is_simulated():
        raise GatewayError("The simulated provider is off.")


def _ts(value: dt.datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _step(interval: str) -> relativedelta:
    return relativedelta(months=1) if interval == Interval.MONTH else relativedelta(years=1)


def _locked_clock() -> SimulatedClock:
    SimulatedClock.objects.get_or_create(pk=1)
    return SimulatedClock.objects.select_for_update().get(pk=1)


def _emit(event_type: str, data_object: dict[str, Any], at: dt.datetime) -> None:
    """Sign and hand over an event dated `at` (never earlier than the last one sent)."""
    from store.webhooks import receive

    clk = _locked_clock()
    created = max(int(at.timestamp()), clk.last_event_created + 1)
    clk.last_event_created = created
    clk.save(update_fields=["last_event_created"])
    event = stripe_gateway.make_event(event_type, data_object)
    event["created"] = created
    payload = json.dumps(event)
    receive(payload.encode(), stripe_gateway.sign(payload))


# --- Stripe-shaped objects -------------------------------------------------------------


def _metadata(sub: SimulatedSubscription) -> dict[str, str]:
    return {"user_id": str(sub.user_id), "tier": sub.tier.slug, "interval": sub.interval}


def subscription_object(sub: SimulatedSubscription) -> dict[str, Any]:
    amount = sub.tier.amount(sub.interval) or 0
    return {
        "id": sub.stripe_id,
        "object": "subscription",
        "customer": sub.customer_id,
        "status": sub.status,
        "created": _ts(sub.created),
        "start_date": _ts(sub.created),
        "trial_end": _ts(sub.trial_end),
        "cancel_at_period_end": sub.cancel_at_period_end,
        "cancel_at": _ts(sub.current_period_end) if sub.cancel_at_period_end else None,
        "canceled_at": _ts(sub.canceled_at),
        "ended_at": _ts(sub.ended_at),
        "livemode": False,
        "metadata": _metadata(sub),
        "items": {
            "object": "list",
            "data": [
                {
                    "id": f"si_{sub.stripe_id}",
                    "object": "subscription_item",
                    "quantity": 1,
                    "current_period_start": _ts(sub.current_period_start),
                    "current_period_end": _ts(sub.current_period_end),
                    "price": {
                        "id": f"price_sim_{sub.tier.slug}_{sub.interval}",
                        "object": "price",
                        "currency": sub.tier.currency,
                        "unit_amount": amount,
                        "recurring": {"interval": sub.interval},
                    },
                }
            ],
        },
    }


def _new_invoice(
    sub: SimulatedSubscription, *, amount: int, reason: str, at: dt.datetime
) -> dict[str, Any]:
    sub.invoice_count += 1
    return {
        "id": f"in_sim_{sub.pk}_{sub.invoice_count}",
        "object": "invoice",
        "customer": sub.customer_id,
        "status": "open",
        "amount_due": amount,
        "amount_paid": 0,
        "attempt_count": 0,
        "billing_reason": reason,
        "currency": sub.tier.currency,
        "created": _ts(at),
        "period_start": _ts(sub.current_period_start),
        "period_end": _ts(sub.current_period_end),
        "hosted_invoice_url": "",
        "livemode": False,
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": sub.stripe_id, "metadata": _metadata(sub)},
        },
    }


def _charge(sub: SimulatedSubscription, invoice: dict[str, Any], at: dt.datetime) -> bool:
    """Try the card on an invoice; emit invoice.paid or invoice.payment_failed."""
    invoice["attempt_count"] += 1
    if sub.card_declines and invoice["amount_due"] > 0:
        sub.open_invoice = invoice
        _emit("invoice.payment_failed", invoice, at)
        return False
    invoice.update(status="paid", amount_paid=invoice["amount_due"])
    sub.open_invoice = None
    _emit("invoice.paid", invoice, at)
    return True


# --- Checkout -------------------------------------------------------------------------


def checkout_token(*, user: User, tier: Tier, interval: str, trial_days: int) -> str:
    """The simulated Checkout session: what it sells to whom, signed (nothing to store)."""
    return signing.dumps(
        {"user": user.pk, "tier": tier.pk, "interval": interval, "trial": trial_days},
        salt=CHECKOUT_SALT,
    )


def checkout_url(*, user: User, tier: Tier, interval: str, trial_days: int) -> str:
    _require()
    token = checkout_token(user=user, tier=tier, interval=interval, trial_days=trial_days)
    return reverse("members:simulated-checkout", args=[token])


def read_checkout(token: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = signing.loads(token, salt=CHECKOUT_SALT, max_age=CHECKOUT_MAX_AGE)
    except signing.BadSignature as error:
        raise GatewayError("This checkout page has expired: start again.") from error
    return data


@transaction.atomic
def complete_checkout(token: str) -> SimulatedSubscription:
    _require()
    data = read_checkout(token)
    user = User.objects.select_for_update().get(pk=data["user"])
    if SimulatedSubscription.objects.filter(user=user).exclude(status__in=ENDED).exists():
        raise GatewayError("You already have a membership.")
    tier = Tier.objects.get(pk=data["tier"])
    interval = data["interval"]
    now = clock.now()
    membership = Membership.objects.filter(user=user).first()
    trial = dt.timedelta(days=int(data["trial"]))
    sub = SimulatedSubscription(
        customer_id=(membership.stripe_customer_id if membership else "") or f"cus_sim_{user.pk}",
        user=user,
        tier=tier,
        interval=interval,
        status=Status.TRIALING if trial else Status.ACTIVE,
        created=now,
        current_period_start=now,
        current_period_end=now + trial if trial else now + _step(interval),
        trial_end=now + trial if trial else None,
    )
    sub.save()
    sub.stripe_id = f"sub_sim_{sub.pk}"
    invoice = _new_invoice(
        sub, amount=0 if trial else tier.amount(interval) or 0, reason="subscription_create", at=now
    )
    sub.save()
    _emit("customer.subscription.created", subscription_object(sub), now)
    sub.card_declines = False  # Checkout only completes with a card that paid
    _charge(sub, invoice, now)
    sub.save()
    return sub


# --- The member's requests --------------------------------------------------------------


def _locked(stripe_id: str) -> SimulatedSubscription:
    _require()
    sub = (
        SimulatedSubscription.objects.select_for_update()
        .select_related("tier")
        .filter(stripe_id=stripe_id)
        .first()
    )
    if sub is None or sub.status in ENDED:
        raise GatewayError("No such subscription.")
    return sub


@transaction.atomic
def set_cancel_at_period_end(stripe_id: str, cancel: bool) -> None:
    sub = _locked(stripe_id)
    now = clock.now()
    sub.cancel_at_period_end = cancel
    sub.canceled_at = now if cancel else None
    sub.save()
    _emit("customer.subscription.updated", subscription_object(sub), now)


@transaction.atomic
def change_plan(stripe_id: str, *, tier: Tier, interval: str) -> None:
    """Switch price as Stripe does with proration_behavior=always_invoice, approximately:
    the unused part of the old price is credited against the new one, billed at once.
    A new interval restarts the billing period today (Stripe moves the anchor)."""
    sub = _locked(stripe_id)
    now = clock.now()
    old_amount = sub.tier.amount(sub.interval) or 0
    new_amount = tier.amount(interval) or 0
    if sub.status == Status.TRIALING:
        charge = 0  # nothing was paid yet; the trial carries on at the new price
    else:
        length = (sub.current_period_end - sub.current_period_start).total_seconds() or 1
        left = max(0.0, (sub.current_period_end - now).total_seconds()) / length
        credit = round(old_amount * left)
        if interval == sub.interval:
            charge = round(new_amount * left) - credit
        else:
            charge = new_amount - credit
            sub.current_period_start, sub.current_period_end = now, now + _step(interval)
        charge = max(0, charge)  # a downgrade's credit stays with Stripe's customer balance
    if charge and sub.card_declines:
        raise GatewayError("Your card was declined: update it, then change your plan.")
    sub.tier, sub.interval = tier, interval
    if charge:
        _charge(sub, _new_invoice(sub, amount=charge, reason="subscription_update", at=now), now)
    sub.save()
    _emit("customer.subscription.updated", subscription_object(sub), now)


@transaction.atomic
def set_card(user: User, *, declines: bool) -> None:
    """The simulated customer portal: swap the card; a working card pays what is overdue."""
    _require()
    now = clock.now()
    for sub in (
        SimulatedSubscription.objects.select_for_update()
        .select_related("tier")
        .filter(user=user)
        .exclude(status__in=ENDED)
    ):
        sub.card_declines = declines
        if not declines and sub.open_invoice and sub.status in {Status.PAST_DUE, Status.UNPAID}:
            _charge(sub, dict(sub.open_invoice), now)
            sub.status = Status.ACTIVE
            sub.save()
            _emit("customer.subscription.updated", subscription_object(sub), now)
        sub.save()


def card_declines(user: User) -> bool:
    return (
        SimulatedSubscription.objects.filter(user=user, card_declines=True)
        .exclude(status__in=ENDED)
        .exists()
    )


# --- The clock -----------------------------------------------------------------------------


def advance(delta: dt.timedelta) -> int:
    """Move the clock and run everything due by then: returns how many subscriptions moved."""
    _require()
    with transaction.atomic():
        clk = _locked_clock()
        clk.offset_seconds += int(delta.total_seconds())
        clk.save(update_fields=["offset_seconds"])
    target = clock.now()
    moved = 0
    ids = SimulatedSubscription.objects.exclude(status__in=ENDED).values_list("pk", flat=True)
    for pk in list(ids):
        with transaction.atomic():
            sub = (
                SimulatedSubscription.objects.select_for_update().select_related("tier").get(pk=pk)
            )
            moved += _run_until(sub, target)
    return moved


def _run_until(sub: SimulatedSubscription, target: dt.datetime) -> int:
    steps = 0
    while True:
        if (
            sub.status == Status.TRIALING
            and not sub.trial_warned
            and sub.trial_end
            and sub.trial_end - TRIAL_WARNING <= target
        ):
            sub.trial_warned = True
            sub.save()
            _emit(
                "customer.subscription.trial_will_end",
                subscription_object(sub),
                sub.trial_end - TRIAL_WARNING,
            )
            continue
        if sub.status == Status.PAST_DUE and sub.current_period_start + RETRY_WINDOW <= target:
            sub.status = Status.UNPAID
            sub.save()
            _emit(
                "customer.subscription.updated",
                subscription_object(sub),
                sub.current_period_start + RETRY_WINDOW,
            )
            steps += 1
            continue
        due = sub.current_period_end
        if sub.status not in {Status.ACTIVE, Status.TRIALING} or due > target:
            return steps
        steps += 1
        if sub.cancel_at_period_end:
            sub.status, sub.ended_at = Status.CANCELED, due
            sub.save()
            _emit("customer.subscription.deleted", subscription_object(sub), due)
            return steps
        sub.current_period_start, sub.current_period_end = due, due + _step(sub.interval)
        invoice = _new_invoice(
            sub, amount=sub.tier.amount(sub.interval) or 0, reason="subscription_cycle", at=due
        )
        paid = _charge(sub, invoice, due)
        sub.status = Status.ACTIVE if paid else Status.PAST_DUE
        sub.save()
        _emit("customer.subscription.updated", subscription_object(sub), due)
