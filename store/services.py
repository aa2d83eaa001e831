"""The store's workflows: start a checkout, fulfil it once, refund, keep access in step.

`fulfil_checkout` is the one door to fulfilment: the webhook task and the
success page both call it, it locks the order row, and everything it creates
is keyed so that a second call (or a thousandth) changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction

from coaching.hooks import answers
from coaching.models import User
from coaching.money import format_money
from coaching.tasks import enqueue_on_commit
from store import emails, stripe_gateway
from store.models import (
    Coupon,
    CreditGrant,
    Entitlement,
    FileVersion,
    Order,
    OrderItem,
    Price,
    Product,
    Refund,
    StampedFile,
)
from store.plans import Instalment, write_schedule
from store.signals import discount_percent_for, order_fulfilled

log = logging.getLogger(__name__)

PAID_STATUSES = {"paid", "no_payment_required"}


class CheckoutError(Exception):
    """A buyer-facing reason the checkout could not start; nothing was saved."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass
class CheckoutStart:
    order: Order
    url: str


def quote(*, product: Product, amount: int | None, coupon: Coupon | None) -> tuple[int, int]:
    """(subtotal, discount) in minor units, checking pay-what-you-want's minimum."""
    price = product.price
    if price is None:
        raise CheckoutError("This product is not on sale at the moment.")
    subtotal = price.amount
    if product.pay_what_you_want and amount is not None:
        if amount < product.minimum_amount:
            raise CheckoutError(
                f"The minimum is {format_money(product.minimum_amount, price.currency)}.",
                field="amount",
            )
        subtotal = amount
    discount = coupon.discount_for(subtotal) if coupon else 0
    if subtotal - discount < 50:
        raise CheckoutError("Card payments must be at least 0.50.", field="coupon")
    return subtotal, discount


def start_checkout(
    *,
    product: Product,
    email: str,
    user: Any = None,
    amount: int | None = None,
    coupon_code: str = "",
    business_name: str = "",
    business_address: str = "",
    tax_id: str = "",
    success_url: str,
    cancel_url: str,
    return_url: str = "",
    instalments: int = 1,
) -> CheckoutStart:
    """Create the order and its Checkout session together, or neither.

    A limited coupon's place is held by the open order (see `Coupon.has_room`) and
    counted as redeemed only when the payment succeeds; the coupon row is locked
    so that concurrent checkouts cannot both take the last place.
    """
    with transaction.atomic():
        coupon = None
        if coupon_code:
            coupon = (
                Coupon.objects.select_for_update().filter(code=coupon_code.strip().upper()).first()
            )
            if coupon is None or not coupon.is_usable():
                raise CheckoutError("That coupon code is not valid.", field="coupon")
            if coupon.currency != (product.price.currency if product.price else coupon.currency):
                raise CheckoutError("That coupon does not apply to this price.", field="coupon")
            if not coupon.has_room():
                raise CheckoutError("That coupon has been used up.", field="coupon")
        subtotal, discount = quote(product=product, amount=amount, coupon=coupon)
        # A membership's discount replaces a smaller coupon's (they never add up).
        discount = max(discount, member_discount(user=user, subtotal=subtotal))
        price = product.price
        assert price is not None  # quote() checked
        order = Order.objects.create(
            email=email.strip().lower(),
            user=user if user is not None and user.is_authenticated else None,
            currency=price.currency,
            subtotal=subtotal,
            discount=discount,
            total=subtotal - discount,
            coupon=coupon,
            refund_window_days=product.refund_window_days,
            automatic_tax=settings.STORE_AUTOMATIC_TAX,
            policy_snapshot={
                "refund_policy": product.refund_policy,
                "refund_window_days": product.refund_window_days,
                "automatic_refunds": product.automatic_refunds,
                "product": product.title,
            },
            business_name=business_name,
            business_address=business_address,
            tax_id=tax_id,
            return_url=return_url,
        )
        OrderItem.objects.create(
            order=order, product=product, title=product.title, unit_amount=subtotal
        )
        if instalments > 1:
            if not product.offers_instalments or instalments != product.instalments:
                raise CheckoutError("This product cannot be paid in instalments.")
            if order.total < 50 * instalments:
                raise CheckoutError("Each instalment must be at least 0.50.", field="plan")
            write_schedule(order=order, product=product, count=instalments)
        try:
            session = stripe_gateway.create_checkout_session(
                order=order, success_url=success_url, cancel_url=cancel_url
            )
        except stripe_gateway.GatewayError as error:
            log.warning("checkout for %s failed: %s", order.number, error)
            raise CheckoutError(
                "We could not reach the payment provider, so nothing was charged. "
                "Please try again in a few minutes."
            ) from error
        order.stripe_checkout_session_id = session["id"]
        order.save(update_fields=["stripe_checkout_session_id"])
    return CheckoutStart(order=order, url=session["url"])


def member_discount(*, user: Any, subtotal: int) -> int:
    """What an account's membership takes off (store.signals.discount_percent_for), in minor
    units, leaving at least the 0.50 a card payment needs."""
    if user is None or not user.is_authenticated:
        return 0
    percent = max([0, *answers(discount_percent_for, Order, user=user)])
    return max(0, min(subtotal * min(percent, 100) // 100, subtotal - 50))


def buyer_for(email: str) -> User:
    """The account for a buyer's email, made without a password if new.

    The buyer signs in by emailed code, so a purchase is never stranded behind
    a password they never set.
    """
    from allauth.account.models import EmailAddress

    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email)
        EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"primary": True, "verified": False}
        )
    return user


def grant_free_product(*, user: User, product: Product) -> bool:
    """Give `product` to `user` for nothing (a newsletter's lead magnet): a zero-total
    order, paid and fulfilled, with its entitlements, so the library, the timeline and
    the accounts read it like any purchase. Sessions and coaching credits are never
    given this way. False when there is nothing to grant or the user already has it all.
    Call inside a transaction, with a row of the caller's locked against a double grant."""
    granted = [
        p
        for p in product.granted_products()
        if p.kind not in {Product.Kind.SESSION, Product.Kind.COACHING}
    ]
    if not granted or all(
        Entitlement.objects.active().filter(user=user, product=p).exists() for p in granted
    ):
        return False
    order = Order.objects.create(email=user.email, user=user, subtotal=0, discount=0, total=0)
    OrderItem.objects.create(order=order, product=product, title=product.title, unit_amount=0)
    order.mark_paid(payment_intent="")
    order.mark_fulfilled()
    for item in granted:
        Entitlement.objects.get_or_create(order=order, product=item, defaults={"user": user})
    return True


def fulfil_checkout(*, session_id: str, session: dict[str, Any] | None = None) -> Order | None:
    """Fulfil the order behind a Checkout session if it is paid. Idempotent.

    `session` is the session object from a verified event; without it the
    session is fetched from Stripe, so a forged success-page URL proves nothing.
    """
    if session is None:
        session = stripe_gateway.retrieve_checkout_session(session_id)
    if session.get("payment_status") not in PAID_STATUSES:
        return None
    with transaction.atomic():
        order = (
            Order.objects.select_for_update().filter(stripe_checkout_session_id=session_id).first()
        )
        if order is None:
            log.warning("no order for checkout session %s", session_id)
            return None
        if order.paid_at is None:
            mismatch = payment_mismatch(order=order, session=session)
            if mismatch and order.hold(mismatch):
                log.warning("order %s held: %s", order.number, mismatch)
                emails.send_order_held(order)
            if order.held_at is not None:
                return order
        if order.user_id is None:
            order.user = buyer_for(order.email)
            order.save(update_fields=["user"])
        payment_intent = str(session.get("payment_intent") or "")
        paid_now = order.mark_paid(payment_intent=payment_intent)
        if paid_now:
            record_tax(order=order, session=session)
            plan = order.payment_plan
            if plan is not None:
                first = plan.instalments.get(number=1)
                first.mark_paid(payment_intent=payment_intent)
                # Checkout's tax is the first instalment's own.
                Instalment.objects.filter(pk=first.pk).update(tax_amount=order.tax_amount)
                plan.stripe_customer_id = str(session.get("customer") or "")
                plan.save(update_fields=["stripe_customer_id"])
        if paid_now and order.coupon is not None and not order.coupon.record_redemption():
            log.warning("order %s paid with coupon %s past its limit", order.number, order.coupon)
        sync_access(order=order)
    return order


def record_tax(*, order: Order, session: dict[str, Any]) -> None:
    """Keep the tax Stripe Tax worked out inside the (tax-inclusive) total."""
    if not order.automatic_tax:
        return
    tax = int((session.get("total_details") or {}).get("amount_tax") or 0)
    order.tax_amount = min(tax, order.total)
    order.save(update_fields=["tax_amount"])


def payment_mismatch(*, order: Order, session: dict[str, Any]) -> str:
    """Why the session's payment is not this order's, or "" when it is.

    A session paid for another amount, in another currency or in the other
    Stripe mode (a test payment reaching a live site) must never fulfil.
    """
    amount = session.get("amount_total")
    expected = order.charged_at_checkout
    if amount != expected:
        return f"Stripe's session is for {amount} (minor units), the order for {expected}."
    currency = str(session.get("currency") or "").lower()
    if currency != order.currency.lower():
        return f"Stripe's session is in {currency or 'no currency'}, the order in {order.currency}."
    live = stripe_gateway.is_live()
    if session.get("livemode") is not live:
        paid, key = ("live" if session.get("livemode") else "test"), ("live" if live else "test")
        return f"Stripe's session is a {paid} payment but the site's key is {key}."
    return ""


def sync_access(*, order: Order) -> None:
    """Make what the order grants match its state: create once, or revoke.

    Called with the order row locked. Creating is keyed on (order, product) so
    that reruns find the rows; revoking is final for that order.
    """
    if not order.grants_access:
        plan = order.payment_plan
        if plan is not None and order.paid_at is not None:
            plan.cancel_unpaid()  # nothing more is taken for what was given back
        for entitlement in order.entitlements.all():
            entitlement.revoke()
        for grant in order.credit_grants.all():
            grant.revoke()
        return
    if not order.mark_fulfilled():
        return
    assert order.user is not None and order.paid_at is not None
    for item in order.items.select_related("product"):
        for product in item.product.granted_products():
            if product.kind == Product.Kind.SESSION:
                continue  # a booked session: the bookings app confirms it below
            Entitlement.objects.get_or_create(
                order=order, product=product, defaults={"user": order.user}
            )
            if product.kind == Product.Kind.COACHING and product.session_credits:
                expires = (
                    order.paid_at + timedelta(days=product.validity_days)
                    if product.validity_days
                    else None
                )
                plan = order.payment_plan
                CreditGrant.objects.get_or_create(
                    order=order,
                    product=product,
                    defaults={
                        "user": order.user,
                        # Bought in instalments: what the plan (fixed at purchase) has
                        # released so far; the rest follows each paid instalment.
                        "total": plan.credits_released() if plan else product.session_credits,
                        "expires_at": expires,
                    },
                )
            for product_file in product.files.all():
                version = product_file.current_version
                if version is not None and version.is_pdf:
                    request_stamp(user=order.user, version=version, order=order)
    order_fulfilled.send(sender=Order, order=order)
    emails.send_receipt(order)


def session_product(
    *, slug: str, title: str, amount: int, currency: str, refund_policy: str
) -> Product:
    """The hidden product a paid session is sold as, its price kept equal to `amount`.

    Inactive, so it is never listed or sold from the store pages; the order,
    receipt, invoice and refunds then work exactly as for any other product.
    """
    product, _ = Product.objects.get_or_create(
        slug=slug,
        defaults={
            "kind": Product.Kind.SESSION,
            "title": title,
            "summary": title,
            "is_active": False,
            "refund_window_days": 0,
            "refund_policy": refund_policy,
        },
    )
    if (product.title, product.refund_policy) != (title, refund_policy):
        product.title, product.refund_policy = title, refund_policy
        product.save(update_fields=["title", "refund_policy"])
    price = product.price
    if price is None or (price.amount, price.currency) != (amount, currency.lower()):
        product.prices.filter(is_active=True).update(is_active=False)
        Price.objects.create(product=product, amount=amount, currency=currency.lower())
    return product


def mark_checkout_failed(*, session_id: str) -> Order | None:
    with transaction.atomic():
        order = (
            Order.objects.select_for_update().filter(stripe_checkout_session_id=session_id).first()
        )
        if order is None:
            return None
        order.mark_failed()
    return order


def find_order_for_charge(charge: dict[str, Any]) -> Order | None:
    payment_intent = charge.get("payment_intent") or ""
    number = (charge.get("metadata") or {}).get("order_number", "")
    if payment_intent:
        order = Order.objects.filter(stripe_payment_intent_id=payment_intent).first()
        if order is None:  # a later instalment's own charge
            order = Order.objects.filter(
                plan__instalments__stripe_payment_intent_id=payment_intent
            ).first()
        if order is not None:
            return order
    if number:
        return Order.objects.filter(number=number).first()
    return None


def instalment_for_charge(order: Order, charge: dict[str, Any]) -> Instalment | None:
    """The instalment whose own charge this is: named in its metadata (an off-session
    or "pay now" charge), else found by payment intent (the checkout's charge)."""
    plan = order.payment_plan
    if plan is None:
        return None
    named = (charge.get("metadata") or {}).get("instalment")
    if named and str(named).isdigit():
        return plan.instalments.filter(pk=int(named)).first()
    payment_intent = charge.get("payment_intent") or ""
    if not payment_intent:
        return None
    return plan.instalments.filter(stripe_payment_intent_id=payment_intent).first()


def record_charge_refund(*, charge: dict[str, Any]) -> Order | None:
    """Stripe says a charge was refunded (cumulative): record what is new, with a credit
    note for it. An order paid in instalments has a charge per instalment, each
    recorded on its own instalment; the order's refunded total is their sum."""
    found = find_order_for_charge(charge)
    if found is None:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=found.pk)
        plan = order.payment_plan
        if plan is None and charge.get("payment_intent") and not order.stripe_payment_intent_id:
            order.stripe_payment_intent_id = charge["payment_intent"]
            order.save(update_fields=["stripe_payment_intent_id"])
        refunded = int(charge.get("amount_refunded") or 0)
        instalment = None
        if plan is None:
            if charge.get("refunded"):
                refunded = max(refunded, order.total)
            before = order.amount_refunded
            added = order.amount_refunded - before if order.record_refunded_total(refunded) else 0
        else:
            instalment = instalment_for_charge(order, charge)
            if instalment is None:
                return None  # its instalment's payment is not recorded yet: retried
            if charge.get("refunded"):
                refunded = max(refunded, instalment.amount)
            added = instalment.record_refunded_total(refunded)
            if added:
                order.record_refunded_total(plan.amount_refunded)
        if added:
            order.issue_credit_note(
                added, reason=refund_reason(order), instalment=instalment if plan else None
            )
            sync_access(order=order)
            emails.send_refund_issued(order)
    return order


def refund_reason(order: Order) -> str:
    latest = order.refunds.order_by("-pk").first()
    return latest.reason if latest is not None else "Refunded"


def record_dispute(*, charge: dict[str, Any], state: str) -> Order | None:
    found = find_order_for_charge(charge)
    if found is None:
        return None
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=found.pk)
        if order.record_dispute(state):
            sync_access(order=order)
    return order


def refund_order(
    *, order: Order, amount: int | None = None, by: Any = None, reason: str = ""
) -> Refund:
    """Refund through Stripe (all that is left when `amount` is None). Raises
    GatewayError. Returns the (last) Refund made.

    Each Refund row is committed first: its id is the idempotency key, so a retry
    after a timeout asks Stripe for the same refund, not a second one. An order paid
    in instalments is refunded charge by charge, the latest first; refunding all that
    is left first cancels the instalments not yet paid, so none is collected after.
    """
    remaining = order.refundable
    amount = remaining if amount is None else amount
    if order.paid_at is None or amount <= 0 or amount > remaining:
        raise stripe_gateway.GatewayError(
            f"Nothing to refund for that amount (at most {order.money(remaining)})."
        )
    plan = order.payment_plan
    if plan is None:
        return _refund_charge(order=order, amount=amount, by=by, reason=reason)
    if amount == remaining:
        with transaction.atomic():
            Order.objects.select_for_update().get(pk=order.pk)
            plan.cancel_unpaid()
    refund = None
    for instalment, part in plan.refund_shares(amount):
        refund = _refund_charge(
            order=order, amount=part, by=by, reason=reason, instalment=instalment
        )
    assert refund is not None
    return refund


def _refund_charge(
    *, order: Order, amount: int, by: Any, reason: str, instalment: Instalment | None = None
) -> Refund:
    """One refund of one charge: the order's, or one instalment's own."""
    refund = Refund.objects.create(
        order=order, instalment=instalment, amount=amount, created_by=by, reason=reason[:200]
    )
    refund.stripe_refund_id = stripe_gateway.create_refund(order=order, refund=refund)
    refund.save(update_fields=["stripe_refund_id"])
    # Stripe's charge.refunded event confirms this too; recording it now
    # shows the coach the result at once and is idempotent with the event.
    if instalment is None:
        charge = {
            "payment_intent": order.stripe_payment_intent_id,
            "metadata": {"order_number": order.number},
            "amount_refunded": order.amount_refunded + amount,
        }
    else:
        charge = {
            "payment_intent": instalment.stripe_payment_intent_id,
            "metadata": {"order_number": order.number, "instalment": str(instalment.pk)},
            "amount_refunded": instalment.amount_refunded + amount,
        }
    record_charge_refund(charge=charge)
    order.refresh_from_db()
    return refund


class RefundOutcome(StrEnum):
    REFUNDED = "refunded"  # paid back at once, access revoked
    REQUESTED = "requested"  # the coach decides
    REFUSED = "refused"  # nothing to ask for (already asked, refunded, or no policy)


def request_refund(*, order: Order, reason: str) -> RefundOutcome:
    """The buyer's refund request: paid at once when the order's policy allows it
    inside the window, otherwise recorded for the coach.

    The request is claimed under the order's row lock and committed before Stripe
    is asked, so a second request (a double click, two tabs) finds it taken and
    the money goes back once. If Stripe cannot refund now, the claim stays and
    the coach is asked to do it, as for any request.
    """
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        at_once = locked.refunds_at_once()
        if not locked.request_refund(reason):
            return RefundOutcome.REFUSED
        if not at_once:
            emails.send_refund_requested(locked)
            return RefundOutcome.REQUESTED
    try:
        refund_order(order=locked, reason="Automatic: inside the refund window")
    except stripe_gateway.GatewayError as error:
        log.warning("automatic refund of %s failed: %s", locked.number, error)
        with transaction.atomic():
            emails.send_refund_requested(locked)
        return RefundOutcome.REQUESTED
    return RefundOutcome.REFUNDED


# --- Files --------------------------------------------------------------------


def request_stamp(*, user: Any, version: FileVersion, order: Order) -> StampedFile:
    from store.tasks import stamp_pdf

    stamp, created = StampedFile.objects.get_or_create(
        user=user, version=version, defaults={"order": order}
    )
    if created:
        enqueue_on_commit(stamp_pdf, stamp.pk)
    return stamp


def retry_stamp(stamp: StampedFile) -> bool:
    """Put a failed stamp back in the queue (the admin's "Prepare again", the buyer's
    "Try again"); False when it was not failed."""
    from store.tasks import stamp_pdf

    if not stamp.start_again():
        return False
    enqueue_on_commit(stamp_pdf, stamp.pk)
    return True


def owners_of(product_ids: list[int]) -> list[tuple[int, int]]:
    """(user id, order id) of active entitlement holders, one row per user."""
    rows = (
        Entitlement.objects.active()
        .filter(product_id__in=product_ids)
        .order_by("user_id", "-created_at")
        .distinct("user_id")
        .values_list("user_id", "order_id")
    )
    return list(rows)


def announce_new_version(*, version: FileVersion) -> None:
    from store.tasks import announce_version

    enqueue_on_commit(announce_version, version.pk)


def entitled_paid_guide_ids(user: Any) -> list[int]:
    """guides.access's entitlement source: paid guides unlocked by active entitlements."""
    return paid_guide_ids_where(user=user)


def paid_guide_ids_where(**entitlement: Any) -> list[int]:
    """Paid guides unlocked by the active entitlements matching `entitlement`'s lookups
    (a user's, or a paying session's orders')."""
    lookups = {f"product__entitlements__{key}": value for key, value in entitlement.items()}
    return list(
        Product.guides.through.objects.filter(
            **lookups,
            product__entitlements__status=Entitlement.Status.ACTIVE,
            guide__visibility="paid",
        )
        .values_list("guide_id", flat=True)
        .distinct()
    )
