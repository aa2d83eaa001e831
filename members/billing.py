"""Every conversation with Stripe Billing, or with the simulated provider when no key is set.

Like store/stripe_gateway.py (whose client and error handling this reuses), the
answers come back as webhook events; nothing here changes a membership row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from store import stripe_gateway
from store.stripe_gateway import GatewayError, _call, _client

if TYPE_CHECKING:
    from coaching.models import User
    from members.models import Membership, Tier

__all__ = ["GatewayError", "change_plan", "create_checkout", "portal_url"]


def create_checkout(
    *,
    user: User,
    tier: Tier,
    interval: str,
    trial_days: int,
    customer: str,
    success_url: str,
    cancel_url: str,
) -> str:
    if stripe_gateway.is_simulated():
        from members import simulator

        return simulator.checkout_url(
            user=user, tier=tier, interval=interval, trial_days=trial_days
        )
    price = tier.stripe_price_id(interval)
    if not price:
        raise GatewayError("This plan has no Stripe price yet.")
    metadata = {"user_id": str(user.pk), "tier": tier.slug, "interval": interval}
    subscription_data: dict[str, Any] = {"metadata": metadata}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    params: dict[str, Any] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "client_reference_id": str(user.pk),
        "metadata": metadata,
        # Copied onto the subscription, so every event about it names the account.
        "subscription_data": subscription_data,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    if customer:
        params["customer"] = customer
    else:
        params["customer_email"] = user.email
    session = _call(_client().v1.checkout.sessions.create, params)
    return str(session.url)


def change_plan(membership: Membership, tier: Tier, interval: str) -> None:
    """Move the subscription to another price; Stripe prorates (and bills the difference)."""
    if stripe_gateway.is_simulated():
        from members import simulator

        simulator.change_plan(membership.stripe_subscription_id, tier=tier, interval=interval)
        return
    price = tier.stripe_price_id(interval)
    if not price:
        raise GatewayError("This plan has no Stripe price yet.")
    client = _client()
    subscription = _call(
        lambda params: client.v1.subscriptions.retrieve(
            membership.stripe_subscription_id, params=params
        ),
        {},
    )
    item = subscription["items"]["data"][0]["id"]
    _call(
        lambda params, options=None: client.v1.subscriptions.update(
            membership.stripe_subscription_id, params=params, options=options or {}
        ),
        {
            "items": [{"id": item, "price": price}],
            "proration_behavior": "always_invoice",
            "metadata": {
                "user_id": str(membership.user_id),
                "tier": tier.slug,
                "interval": interval,
            },
        },
        idempotency_key=f"members-plan-{membership.stripe_subscription_id}-{price}-"
        f"{membership.event_created}",
    )


def set_cancel_at_period_end(membership: Membership, cancel: bool) -> None:
    if stripe_gateway.is_simulated():
        from members import simulator

        simulator.set_cancel_at_period_end(membership.stripe_subscription_id, cancel)
        return
    client = _client()
    _call(
        lambda params, options=None: client.v1.subscriptions.update(
            membership.stripe_subscription_id, params=params, options=options or {}
        ),
        {"cancel_at_period_end": cancel},
        idempotency_key=f"members-cancel-{membership.stripe_subscription_id}-{int(cancel)}-"
        f"{membership.event_created}",
    )


def portal_url(membership: Membership, return_url: str) -> str:
    """Where the member updates their card: Stripe's customer portal, or the local stand-in."""
    if stripe_gateway.is_simulated():
        from django.urls import reverse

        return reverse("members:simulated-portal")
    session = _call(
        _client().v1.billing_portal.sessions.create,
        {"customer": membership.stripe_customer_id, "return_url": return_url},
    )
    return str(session.url)
