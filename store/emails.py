"""The store's emails: one small function each, keyed so each is sent once."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.urls import reverse

from coaching.emails import queue_email
from coaching.models import CoachProfile, OutboundEmail
from store.models import FileVersion, Order, StampedFile


def _url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _order_context(order: Order) -> dict[str, Any]:
    return {
        "order": order,
        "items": list(order.items.all()),
        "library_url": _url(reverse("store:library")),
        "order_url": _url(order.get_absolute_url()),
        "invoice_url": _url(reverse("store:invoice", args=[order.number])),
        "invoice_page_url": _url(reverse("store:invoice-page", args=[order.number])),
        "login_url": _url("/accounts/login/code/"),
    }


def send_receipt(order: Order) -> OutboundEmail | None:
    return queue_email(
        key=f"store-receipt-{order.pk}",
        to=order.email,
        template="store-receipt",
        context={
            **_order_context(order),
            "plan": order.payment_plan,
            "preheader": f"Order {order.number}: your receipt",
        },
    )


def send_refund_issued(order: Order) -> OutboundEmail | None:
    note = order.credit_notes.order_by("-pk").first()
    return queue_email(
        key=f"store-refund-{order.pk}-{order.amount_refunded}",
        to=order.email,
        template="store-refund-issued",
        context={
            **_order_context(order),
            "amount": order.money(order.amount_refunded),
            "credit_note": note,
            "credit_note_url": _url(note.get_absolute_url()) if note else "",
        },
    )


def send_refund_requested(order: Order) -> None:
    profile = CoachProfile.current()
    coach_email = profile.email if profile else parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    context = {
        **_order_context(order),
        "admin_url": _url(reverse("admin:store_order_change", args=[order.pk])),
    }
    queue_email(
        key=f"store-refund-request-coach-{order.pk}",
        to=coach_email,
        template="store-refund-request-coach",
        context=context,
    )
    queue_email(
        key=f"store-refund-request-buyer-{order.pk}",
        to=order.email,
        template="store-refund-request-buyer",
        context=context,
    )


def _coach_email() -> str:
    profile = CoachProfile.current()
    return profile.email if profile else parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def _instalment_context(instalment: Any) -> dict[str, Any]:
    order = instalment.plan.order
    return {
        **_order_context(order),
        "instalment": instalment,
        "plan": instalment.plan,
        "pay_url": _url(order.get_absolute_url()) + "#instalments",
    }


def send_instalment_paid(instalment: Any) -> OutboundEmail | None:
    return queue_email(
        key=f"store-instalment-paid-{instalment.pk}",
        to=instalment.plan.order.email,
        template="store-instalment-paid",
        context=_instalment_context(instalment),
    )


def send_instalment_missed(instalment: Any) -> OutboundEmail | None:
    """The buyer hears what failed, what is paused, and where to pay it."""
    return queue_email(
        key=f"store-instalment-missed-{instalment.pk}",
        to=instalment.plan.order.email,
        template="store-instalment-missed",
        context=_instalment_context(instalment),
    )


def send_stamp_failed(stamp: StampedFile) -> OutboundEmail | None:
    """The coach hears once per stamp that a buyer's PDF could not be prepared."""
    failed_list = reverse("admin:store_stampedfile_changelist") + "?status__exact=failed"
    return queue_email(
        key=f"store-stamp-failed-{stamp.pk}",
        to=_coach_email(),
        template="store-stamp-failed",
        context={
            "stamp": stamp,
            "order": stamp.order,
            "title": stamp.version.product_file.title,
            "admin_url": _url(failed_list),
        },
    )


def send_stamp_ready(stamp: StampedFile) -> OutboundEmail | None:
    return queue_email(
        key=f"store-stamp-ready-{stamp.pk}",
        to=stamp.user.email,
        template="store-stamp-ready",
        context={
            "title": stamp.version.product_file.title,
            "library_url": _url(reverse("store:library")),
        },
    )


def send_order_held(order: Order) -> None:
    coach_email = _coach_email()
    queue_email(
        key=f"store-order-held-{order.pk}",
        to=coach_email,
        template="store-order-held",
        context={
            **_order_context(order),
            "admin_url": _url(reverse("admin:store_order_change", args=[order.pk])),
        },
    )


def send_new_version(user: Any, version: FileVersion) -> OutboundEmail | None:
    return queue_email(
        key=f"store-version-{version.pk}-{user.pk}",
        to=user.email,
        template="store-new-version",
        context={
            "version": version,
            "product": version.product_file.product,
            "library_url": _url(reverse("store:library")),
            "preheader": f"{version.product_file.title}: {version.label}",
        },
    )
