"""Membership workflows: taking Stripe's subscription and invoice events, and the member's own
requests (subscribe, change plan, cancel, resume), which go to Stripe and come back as events."""

from __future__ import annotations

import logging
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from coaching.models import User
from members import billing, clock, emails
from members.models import (
    Interval,
    Membership,
    MembershipInvoice,
    MembershipSettings,
    StateKey,
    Status,
    Tier,
)

log = logging.getLogger(__name__)


class MembershipError(Exception):
    """A member-facing reason a request was refused; nothing changed."""


# --- Reading a subscription or invoice as Stripe sends it ---------------------------


def _period(subscription: dict[str, Any]) -> tuple[int | None, int | None]:
    # API 2025-03-31 moved the period onto the subscription's items; older versions
    # keep it on the subscription itself.
    start, end = subscription.get("current_period_start"), subscription.get("current_period_end")
    items = (subscription.get("items") or {}).get("data") or []
    if start is None and items:
        start, end = items[0].get("current_period_start"), items[0].get("current_period_end")
    return start, end


def _price(subscription: dict[str, Any]) -> dict[str, Any]:
    items = (subscription.get("items") or {}).get("data") or []
    return (items[0].get("price") or {}) if items else {}


def tier_of(subscription: dict[str, Any]) -> tuple[Tier | None, str]:
    """The tier and interval a subscription pays for: by its Stripe price, else its metadata."""
    price = _price(subscription)
    interval = (price.get("recurring") or {}).get("interval") or ""
    price_id = price.get("id") or ""
    if price_id:
        found = Tier.objects.filter(stripe_monthly_price_id=price_id).first()
        if found:
            return found, Interval.MONTH
        found = Tier.objects.filter(stripe_yearly_price_id=price_id).first()
        if found:
            return found, Interval.YEAR
    metadata = subscription.get("metadata") or {}
    found = Tier.objects.filter(slug=metadata.get("tier", "")).first()
    return found, interval or metadata.get("interval") or Interval.MONTH


def _user_of(metadata: dict[str, Any], customer: str) -> User | None:
    user_id = str(metadata.get("user_id") or "")
    if user_id.isdigit():
        user = User.objects.filter(pk=int(user_id)).first()
        if user is not None:
            return user
    if customer:
        membership = Membership.objects.filter(stripe_customer_id=customer).first()
        if membership is not None:
            return membership.user
    return None


# --- Events ----------------------------------------------------------------------


def apply_subscription(*, subscription: dict[str, Any], event_created: int) -> Membership | None:
    """Take one subscription state from an event, unless a newer one is already held.

    Idempotent and order-independent: the membership row is locked and the state
    replaces it only when its StateKey is not older (see `Membership.apply`), so
    any order of the same events ends in the newest state.
    """
    user = _user_of(subscription.get("metadata") or {}, str(subscription.get("customer") or ""))
    if user is None:
        raise LookupError("no account for this subscription")
    tier, interval = tier_of(subscription)
    if tier is None:
        raise LookupError("no tier for this subscription's price")
    start, end = _period(subscription)
    status = str(subscription.get("status") or Status.INCOMPLETE)
    state = {
        "tier": tier,
        "interval": interval,
        "status": status,
        "stripe_customer_id": str(subscription.get("customer") or ""),
        "stripe_subscription_id": str(subscription["id"]),
        "current_period_start": clock.from_timestamp(start),
        "current_period_end": clock.from_timestamp(end),
        "trial_end": clock.from_timestamp(subscription.get("trial_end")),
        "cancel_at_period_end": bool(subscription.get("cancel_at_period_end")),
        "ended_at": clock.from_timestamp(subscription.get("ended_at")),
    }
    key = StateKey(
        int(subscription.get("created") or 0),
        int(status == Status.CANCELED),
        int(start or 0),
        event_created,
    )
    membership = _locked_membership(user, state)
    before = _snapshot(membership)
    if not membership.apply(state, key):
        return membership
    _after_change(membership, before)
    return membership


def _locked_membership(user: User, state: dict[str, Any]) -> Membership:
    found = Membership.objects.select_for_update().filter(user=user).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            # Created at the oldest possible key, so the state that made it is applied.
            return Membership.objects.create(user=user, **state)
    except IntegrityError:  # a concurrent event for the same account made it first
        return Membership.objects.select_for_update().get(user=user)


def _snapshot(membership: Membership) -> dict[str, Any]:
    if membership.event_created == 0:  # just made: nothing was held before
        return {"access": False, "ending": False, "status": "", "subscription": ""}
    return {
        "access": has_access(membership),
        "ending": membership.is_ending(),
        "status": membership.status,
        "subscription": membership.stripe_subscription_id,
    }


def _after_change(membership: Membership, before: dict[str, Any]) -> None:
    """What a new state owes the member: emails once each, and the tier's newsletter lists."""
    same_subscription = before["subscription"] == membership.stripe_subscription_id
    if membership.is_ending() and not (same_subscription and before["ending"]):
        emails.send_cancellation(membership, ended=False)
    if membership.status == Status.CANCELED and not (
        same_subscription and before["status"] == Status.CANCELED
    ):
        emails.send_cancellation(membership, ended=True)
    access = has_access(membership)
    if access != before["access"]:
        from members import lists

        lists.follow_access(membership, access=access)


def note_trial_ending(*, subscription: dict[str, Any]) -> str:
    """Stripe's notice three days before a trial ends: told once, judged by the event's own
    state (trialing when it was sent), so its place among the other events does not matter."""
    membership = Membership.objects.filter(stripe_subscription_id=subscription["id"]).first()
    if membership is None:
        raise LookupError("no membership for this subscription yet")
    if subscription.get("status") != Status.TRIALING or subscription.get("cancel_at_period_end"):
        return "no trial to end"
    emails.send_trial_ending(
        membership, trial_end=clock.from_timestamp(subscription.get("trial_end"))
    )
    return "trial ending told"


def _invoice_subscription(invoice: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # API 2025-03-31 moved it under parent.subscription_details, with the metadata.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    subscription = details.get("subscription") or invoice.get("subscription") or ""
    if isinstance(subscription, dict):
        subscription = subscription.get("id", "")
    return str(subscription), details.get("metadata") or invoice.get(
        "subscription_details", {}
    ).get("metadata") or {}


def record_invoice(*, invoice: dict[str, Any], failed: bool = False) -> MembershipInvoice:
    """Keep one row per invoice (paid and void are final) and tell the member once."""
    subscription_id, metadata = _invoice_subscription(invoice)
    user = _user_of(metadata, str(invoice.get("customer") or ""))
    if user is None and subscription_id:
        membership = Membership.objects.filter(stripe_subscription_id=subscription_id).first()
        user = membership.user if membership else None
    if user is None:
        raise LookupError("no account for this invoice yet")
    status = str(invoice.get("status") or "open")
    fields = {
        "user": user,
        "stripe_subscription_id": subscription_id,
        "status": status,
        "billing_reason": str(invoice.get("billing_reason") or ""),
        "currency": str(invoice.get("currency") or "gbp"),
        "amount_due": int(invoice.get("amount_due") or 0),
        "amount_paid": int(invoice.get("amount_paid") or 0),
        "attempt_count": int(invoice.get("attempt_count") or 0),
        "hosted_invoice_url": str(invoice.get("hosted_invoice_url") or "")[:500],
        "period_start": clock.from_timestamp(invoice.get("period_start")),
        "period_end": clock.from_timestamp(invoice.get("period_end")),
        "created": clock.from_timestamp(invoice.get("created")) or clock.now(),
    }
    row = (
        MembershipInvoice.objects.select_for_update()
        .filter(stripe_invoice_id=invoice["id"])
        .first()
    )
    if row is None:
        try:
            with transaction.atomic():
                row = MembershipInvoice.objects.create(stripe_invoice_id=invoice["id"], **fields)
        except IntegrityError:
            row = MembershipInvoice.objects.select_for_update().get(stripe_invoice_id=invoice["id"])
    newer = (MembershipInvoice.RANK.get(status, 0), fields["attempt_count"]) >= (
        MembershipInvoice.RANK.get(row.status, 0),
        row.attempt_count,
    )
    if newer:
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
    if row.status == MembershipInvoice.State.PAID:
        if row.billing_reason == "subscription_cycle" and row.amount_paid > 0:
            emails.send_renewal(row)
    elif failed:
        emails.send_payment_failed(row)
    return row


# --- Reading access ----------------------------------------------------------------


def has_access(membership: Membership | None) -> bool:
    if membership is None:
        return False
    grace = MembershipSettings.current().grace_days if membership.status == Status.PAST_DUE else 0
    return membership.gives_access(clock.now(), grace)


def current_membership(user: Any) -> Membership | None:
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.select_related("tier").filter(user=user).first()


def tier_held(user: Any) -> Tier | None:
    """The paid tier whose access this account has now, or None."""
    membership = current_membership(user)
    return membership.tier if membership is not None and has_access(membership) else None


def tiers_for_user(user: Any) -> list[str]:
    """guides' question: the tiers (slugs) this account reads, free ones and lower ones included."""
    held = tier_held(user)
    tiers = Tier.objects.all()
    if held is None:
        return list(tiers.free().values_list("slug", flat=True))
    free = Q(monthly_amount__isnull=True, yearly_amount__isnull=True)
    return list(tiers.filter(Q(rank__lte=held.rank) | free).values_list("slug", flat=True))


def discount_percent(user: Any) -> int:
    """store's question: the percentage off products this account's membership gives."""
    held = tier_held(user)
    return held.product_discount_percent if held is not None else 0


# --- The member's requests (answered by Stripe's events) -----------------------------


def start_subscription(
    *, user: User, tier: Tier, interval: str, success_url: str, cancel_url: str
) -> str:
    """A Checkout page (mode=subscription) for this tier and interval; returns its URL."""
    if tier.is_free or tier.amount(interval) is None or not tier.is_active:
        raise MembershipError("That plan is not on sale.")
    membership = current_membership(user)
    if membership is not None and has_access(membership):
        raise MembershipError("You are already a member: change your plan from your account.")
    if membership is not None and membership.status in {Status.PAST_DUE, Status.UNPAID}:
        # A second subscription would bill twice; paying the first one opens it again.
        raise MembershipError(
            "Your membership's last payment failed: update your card from your account."
        )
    trial_days = tier.trial_days if not had_trial(user) else 0
    try:
        return billing.create_checkout(
            user=user,
            tier=tier,
            interval=interval,
            trial_days=trial_days,
            customer=membership.stripe_customer_id if membership else "",
            success_url=success_url,
            cancel_url=cancel_url,
        )
    except billing.GatewayError as error:
        raise MembershipError(str(error)) from error


def had_trial(user: User) -> bool:
    """A free trial is given once per person, whatever tier it was on."""
    return (
        Membership.objects.filter(user=user, trial_end__isnull=False).exists()
        or MembershipInvoice.objects.filter(user=user).exists()
    )


def change_plan(*, membership: Membership, tier: Tier, interval: str) -> None:
    if not membership.can_change_plan():
        raise MembershipError("This membership has ended: subscribe again from the pricing page.")
    if tier.is_free or tier.amount(interval) is None:
        raise MembershipError("That plan is not on sale.")
    if tier == membership.tier and interval == membership.interval:
        raise MembershipError("That is already your plan.")
    _call(billing.change_plan, membership, tier, interval)


def cancel(*, membership: Membership) -> None:
    if membership.cancel_at_period_end or membership.status == Status.CANCELED:
        raise MembershipError("This membership is already set to end.")
    _call(billing.set_cancel_at_period_end, membership, True)


def resume(*, membership: Membership) -> None:
    if not membership.is_ending():
        raise MembershipError("There is no cancellation to undo.")
    _call(billing.set_cancel_at_period_end, membership, False)


def _call(function: Any, *args: Any) -> None:
    try:
        function(*args)
    except billing.GatewayError as error:
        raise MembershipError(str(error)) from error
