"""A guest buyer's browser session: what it started, what it paid for.

Buying needs no account. The session that started a checkout remembers the
order (`remember_started`); once the success page sees that order paid, the
session remembers it as paid (`remember_paid`) and from then on reads what it
bought at once, before any sign-in. Access itself is still decided by the one
gating rule: guides.access asks `paid_guide_ids` for the session, and every
answer is checked against the order's active entitlements, so a refund takes
it back here too.
"""

from __future__ import annotations

from typing import Any

from coaching.pagecache import PERSONAL_SESSION_KEY
from store.models import Order
from store.services import paid_guide_ids_where

STARTED_KEY = "store_orders"
PAID_KEY = "store_paid_orders"
FROM_KEY = "store_from_guide"
KEEP = 10  # orders remembered per session, newest last


def remember_started(session: Any, order: Order, *, from_guide: str = "") -> None:
    session[STARTED_KEY] = [*session.get(STARTED_KEY, [])[-(KEEP - 1) :], order.number]
    if from_guide:
        # The guide whose paywall led here: the success page links back to it.
        session[FROM_KEY] = {**session.get(FROM_KEY, {}), order.number: from_guide}


def started_here(session: Any, order: Order) -> bool:
    return order.number in session.get(STARTED_KEY, [])


def from_guide(session: Any, order: Order) -> str:
    return str(session.get(FROM_KEY, {}).get(order.number, ""))


def remember_paid(session: Any, order: Order) -> None:
    """Trust this session with a paid order it started itself; a no-op otherwise."""
    if order.paid_at is None or not started_here(session, order):
        return
    paid = session.get(PAID_KEY, [])
    if order.number not in paid:
        session[PAID_KEY] = [*paid[-(KEEP - 1) :], order.number]
    # Its guide pages now differ from a visitor's: keep them out of the shared cache.
    session[PERSONAL_SESSION_KEY] = True


def paid_orders(session: Any) -> list[str]:
    return list(session.get(PAID_KEY, []))


def paid_order(session: Any, number: str) -> Order | None:
    if number not in paid_orders(session):
        return None
    return Order.objects.filter(number=number).exclude(paid_at=None).first()


def buyer_email(session: Any) -> str:
    """The email of the latest order this session paid, to prefill the sign-in."""
    numbers = paid_orders(session)
    if not numbers:
        return ""
    return Order.objects.filter(number=numbers[-1]).values_list("email", flat=True).first() or ""


def paid_guide_ids(session: Any) -> list[int]:
    """guides.access's session source: paid guides of this session's active entitlements."""
    numbers = paid_orders(session)
    if not numbers:
        return []  # most sessions: no query
    return paid_guide_ids_where(order__number__in=numbers)
