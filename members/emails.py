"""The member's emails: one function each, keyed so each is sent once whatever the events do."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.urls import reverse

from coaching.emails import queue_email

if TYPE_CHECKING:
    from members.models import Membership, MembershipInvoice


def _url(name: str) -> str:
    return f"{settings.SITE_URL}{reverse(name)}"


def _context(membership: Membership) -> dict[str, Any]:
    return {
        "membership": membership,
        "tier": membership.tier,
        "account_url": _url("members:account"),
        "pricing_url": _url("members:pricing"),
    }


def send_trial_ending(membership: Membership, *, trial_end: dt.datetime | None) -> None:
    queue_email(
        key=f"members-trial-ending-{membership.stripe_subscription_id}",
        to=membership.user.email,
        template="members-trial-ending",
        context={
            **_context(membership),
            "trial_end": trial_end or membership.trial_end,
            "price": membership.tier.price_display(membership.interval),
            "preheader": "Your free trial ends soon",
        },
    )


def send_cancellation(membership: Membership, *, ended: bool) -> None:
    stage = "ended" if ended else "ending"
    queue_email(
        key=f"members-cancel-{stage}-{membership.stripe_subscription_id}",
        to=membership.user.email,
        template="members-cancellation",
        context={**_context(membership), "ended": ended},
    )


def _membership_of(invoice: MembershipInvoice) -> Membership | None:
    from members.models import Membership

    return Membership.objects.select_related("tier").filter(user=invoice.user_id).first()


def send_renewal(invoice: MembershipInvoice) -> None:
    membership = _membership_of(invoice)
    if membership is None:
        return
    queue_email(
        key=f"members-renewal-{invoice.stripe_invoice_id}",
        to=invoice.user.email,
        template="members-renewal",
        context={**_context(membership), "invoice": invoice},
    )


def send_payment_failed(invoice: MembershipInvoice) -> None:
    from members.models import MembershipSettings

    membership = _membership_of(invoice)
    if membership is None:
        return
    queue_email(
        key=f"members-payment-failed-{invoice.stripe_invoice_id}-{invoice.attempt_count}",
        to=invoice.user.email,
        template="members-payment-failed",
        context={
            **_context(membership),
            "invoice": invoice,
            "fix_url": _url("members:card"),
            "grace_days": MembershipSettings.current().grace_days,
        },
    )
