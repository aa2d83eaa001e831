"""Every conversation with Stripe, in one module, so tests replace it at the network edge.

Outgoing calls carry idempotency keys made from our own rows (an order number,
a refund's primary key), so a retried request can never charge or refund twice.

When `STRIPE_SECRET_KEY` is empty the simulated provider answers instead: it
makes Stripe-shaped sessions whose checkout page is served locally, and its
"payments" and "refunds" arrive as signed events through the same webhook path.
It never runs with `PRODUCTION` on, whatever else is set: there it would give
products away to anyone who presses "pay".
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings
from django.urls import reverse

if TYPE_CHECKING:
    from store.models import Order, Refund

API_VERSION = "2025-03-31.basil"

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """Stripe refused or could not be reached; the message is fit for the buyer."""


class StripeUnavailable(GatewayError):
    pass


class CardDeclined(GatewayError):
    """The saved card refused an off-session charge (a missed instalment)."""


class InvalidSignature(Exception):
    pass


def is_simulated() -> bool:
    return not settings.PRODUCTION and not settings.STRIPE_SECRET_KEY


def is_live() -> bool:
    """Whether the configured key takes real money (Stripe's `livemode`)."""
    return str(settings.STRIPE_SECRET_KEY).startswith(("sk_live_", "rk_live_"))


def _client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        # Only reachable in production without a key (is_simulated() is off there).
        raise GatewayError("Payments are not configured.")
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        max_network_retries=2,
        base_addresses={"api": settings.STRIPE_API_BASE},
    )


def _call(function: Any, params: dict[str, Any], idempotency_key: str | None = None) -> Any:
    options: dict[str, Any] = {}
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    try:
        return function(params=params, options=options) if options else function(params=params)
    except stripe.APIConnectionError as error:
        raise StripeUnavailable("The payment provider could not be reached.") from error
    except stripe.RateLimitError as error:
        raise StripeUnavailable("The payment provider is busy.") from error
    except stripe.StripeError as error:
        raise GatewayError(error.user_message or "The payment provider refused.") from error


# --- Checkout ---------------------------------------------------------------------


def create_checkout_session(*, order: Order, success_url: str, cancel_url: str) -> dict[str, str]:
    """A hosted Checkout session for an order: {"id": ..., "url": ...}."""
    if is_simulated():
        session_id = f"cs_test_sim_{secrets.token_urlsafe(18)}"
        url = reverse("store:simulated-checkout", args=[session_id])
        return {"id": session_id, "url": url}
    plan = order.payment_plan
    line_items = [
        {
            "quantity": item.quantity,
            "price_data": {
                "currency": order.currency,
                "unit_amount": item.unit_amount,
                "product_data": {"name": item.title},
                # Tax inside the price: the buyer pays the listed amount wherever they
                # are, so the session's total always equals the order's.
                **({"tax_behavior": "inclusive"} if order.automatic_tax else {}),
            },
        }
        for item in order.items.all()
    ]
    if plan is not None:
        first = plan.instalments.get(number=1)
        line_items = [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": first.amount,
                    "product_data": {
                        "name": f"{order.items.all()[0].title}: instalment 1 of "
                        f"{plan.instalment_count}"
                    },
                    **({"tax_behavior": "inclusive"} if order.automatic_tax else {}),
                },
            }
        ]
    metadata = {"order_number": order.number}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": line_items,
        "customer_email": order.email,
        "client_reference_id": order.number,
        "metadata": metadata,
        # Copied to the charge, so a refund or dispute finds its order even
        # when it arrives before the checkout completion event.
        "payment_intent_data": {"metadata": metadata},
        "success_url": f"{success_url}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": cancel_url,
        "expires_at": int(time.time()) + settings.CHECKOUT_SESSION_MINUTES * 60,
    }
    if plan is not None:
        # The card is kept (with the buyer's consent on Stripe's page) to take the
        # later instalments when they fall due.
        params["customer_creation"] = "always"
        params["payment_intent_data"]["setup_future_usage"] = "off_session"
    if order.automatic_tax:
        params["automatic_tax"] = {"enabled": True}
        params["billing_address_collection"] = "required"
        # A business buyer can enter its tax ID on Stripe's page; one given in our
        # invoice details is already on the customer, so Stripe Tax can reverse-charge.
        params["tax_id_collection"] = {"enabled": True}
        customer = _business_customer(order)
        if customer:
            params["customer"] = customer
            params["customer_update"] = {"name": "auto", "address": "auto"}
            del params["customer_email"]
            params.pop("customer_creation", None)
    if order.discount:
        # Stripe needs a coupon object for a discount; ours is applied as one
        # amount-off coupon made for this order, keyed to the order.
        coupon = _call(
            _client().v1.coupons.create,
            {"amount_off": order.discount, "currency": order.currency, "duration": "once"},
            idempotency_key=f"store-coupon-{order.number}",
        )
        params["discounts"] = [{"coupon": coupon.id}]
    session = _call(
        _client().v1.checkout.sessions.create,
        params,
        idempotency_key=f"store-checkout-{order.number}",
    )
    return {"id": session.id, "url": session.url}


# Tax ID kinds Stripe names (its `tax_id_data[type]`) by the number's country prefix.
EU_VAT_PREFIXES = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "EL", "ES", "FI", "FR", "HR", "HU", "IE",
    "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "XI",
}  # fmt: skip
OTHER_VAT_PREFIXES = {"GB": "gb_vat", "CH": "ch_vat", "NO": "no_vat"}


def stripe_tax_id(value: str) -> dict[str, str] | None:
    """{"type", "value"} for a VAT number Stripe can take, else None (the buyer can
    still enter it on Stripe's page)."""
    compact = "".join(value.split()).upper()
    prefix = compact[:2]
    if len(compact) < 4 or not compact[2:].replace("MVA", "").isalnum():
        return None
    if prefix in EU_VAT_PREFIXES:
        return {"type": "eu_vat", "value": compact}
    if prefix in OTHER_VAT_PREFIXES:
        return {"type": OTHER_VAT_PREFIXES[prefix], "value": compact}
    return None


def _business_customer(order: Order) -> str:
    """A Stripe customer holding the buyer's business name and tax ID, or ""."""
    tax_id = stripe_tax_id(order.tax_id)
    if tax_id is None:
        return ""
    customer = _call(
        _client().v1.customers.create,
        {
            "email": order.email,
            "name": order.business_name or order.email,
            "tax_id_data": [tax_id],
            "metadata": {"order_number": order.number},
        },
        idempotency_key=f"store-customer-{order.number}",
    )
    return str(customer.id)


def open_checkout_url(order: Order) -> str | None:
    """The URL of the order's Checkout session while it can still be paid, else None."""
    if not order.stripe_checkout_session_id or order.paid_at is not None:
        return None
    if is_simulated():
        return reverse("store:simulated-checkout", args=[order.stripe_checkout_session_id])
    session = retrieve_checkout_session(order.stripe_checkout_session_id)
    return str(session["url"]) if session.get("status") == "open" and session.get("url") else None


def retrieve_checkout_session(session_id: str) -> dict[str, Any]:
    if is_simulated():
        return _simulated_session_state(session_id)
    try:
        session = _client().v1.checkout.sessions.retrieve(session_id)
    except stripe.APIConnectionError as error:
        raise StripeUnavailable("The payment provider could not be reached.") from error
    except stripe.StripeError as error:
        raise GatewayError(error.user_message or "The payment provider refused.") from error
    result: dict[str, Any] = session.to_dict()
    return result


def create_refund(*, order: Order, refund: Refund) -> str:
    """Refund part or all of one charge (the order's, or the refund's instalment's own);
    returns Stripe's refund id."""
    instalment = refund.instalment
    if is_simulated():
        if instalment is None:
            charge = simulated_charge(order, amount_refunded=order.amount_refunded + refund.amount)
        else:
            charge = simulated_instalment_charge(
                instalment, amount_refunded=instalment.amount_refunded + refund.amount
            )
        emit_simulated_event("charge.refunded", charge)
        return f"re_sim_{refund.pk}"
    metadata = {"order_number": order.number, "refund": str(refund.pk)}
    if instalment is not None:
        metadata["instalment"] = str(instalment.pk)
    result = _call(
        _client().v1.refunds.create,
        {
            "payment_intent": (
                instalment.stripe_payment_intent_id
                if instalment
                else order.stripe_payment_intent_id
            ),
            "amount": refund.amount,
            "metadata": metadata,
        },
        idempotency_key=refund.idempotency_key,
    )
    if instalment is not None and instalment.stripe_tax_transaction_id:
        _reverse_tax_transaction(instalment, refund)
    return str(result.id)


def charge_instalment(instalment: Any) -> None:
    """Take a due instalment from the card saved at checkout. The result arrives as
    payment_intent.succeeded or .payment_failed; CardDeclined says so at once."""
    order = instalment.plan.order
    metadata = {"order_number": order.number, "instalment": str(instalment.pk)}
    if is_simulated():
        _keep_instalment_tax(instalment, included_tax(order, instalment.amount))
        event = (
            "payment_intent.payment_failed"
            if instalment.plan.simulate_decline
            else "payment_intent.succeeded"
        )
        emit_simulated_event(
            event,
            {
                "id": f"pi_sim_{order.number}_{instalment.number}",
                "object": "payment_intent",
                "amount": instalment.amount,
                "currency": order.currency,
                "metadata": metadata,
                "status": "succeeded" if event.endswith("succeeded") else "requires_payment_method",
            },
        )
        return
    try:
        intent = _client().v1.payment_intents.retrieve(order.stripe_payment_intent_id)
    except stripe.StripeError as error:
        raise StripeUnavailable("The payment provider could not be reached.") from error
    calculation = _instalment_tax_calculation(instalment) if order.automatic_tax else None
    if calculation is not None:
        metadata["tax_calculation"] = str(calculation.id)
    try:
        _call(
            _client().v1.payment_intents.create,
            {
                "amount": instalment.amount,
                "currency": order.currency,
                "customer": instalment.plan.stripe_customer_id,
                "payment_method": intent.payment_method,
                "off_session": True,
                "confirm": True,
                "metadata": metadata,
            },
            idempotency_key=f"store-instalment-{instalment.pk}",
        )
    except GatewayError as error:
        if isinstance(error.__cause__, stripe.CardError):
            raise CardDeclined(str(error)) from error
        raise
    if calculation is not None:
        _record_tax_transaction(instalment, calculation)


def _keep_instalment_tax(instalment: Any, tax: int) -> None:
    from store.plans import Instalment

    instalment.tax_amount = min(tax, instalment.amount)
    Instalment.objects.filter(pk=instalment.pk).update(tax_amount=instalment.tax_amount)


def _instalment_reference(instalment: Any) -> str:
    return f"{instalment.plan.order.number}-{instalment.number}"


def _instalment_tax_calculation(instalment: Any) -> Any:
    """Stripe Tax for an off-session instalment (a PaymentIntent has no automatic tax):
    the tax inside its amount, for the customer (address and tax IDs) saved at
    checkout. Kept on the instalment before the charge, for its invoice."""
    order = instalment.plan.order
    calculation = _call(
        _client().v1.tax.calculations.create,
        {
            "currency": order.currency,
            "customer": instalment.plan.stripe_customer_id,
            "line_items": [
                {
                    "amount": instalment.amount,
                    "reference": _instalment_reference(instalment),
                    "tax_behavior": "inclusive",
                }
            ],
        },
    )
    _keep_instalment_tax(instalment, int(calculation.tax_amount_inclusive or 0))
    return calculation


def _record_tax_transaction(instalment: Any, calculation: Any) -> None:
    """Tell Stripe Tax the instalment was charged, for its tax reports. The charge
    stands either way, so a failure here is logged for the coach to record by hand."""
    from store.plans import Instalment

    try:
        transaction = _call(
            _client().v1.tax.transactions.create_from_calculation,
            {"calculation": calculation.id, "reference": _instalment_reference(instalment)},
            idempotency_key=f"store-instalment-tax-{instalment.pk}",
        )
    except GatewayError as error:
        log.warning("tax transaction for instalment %s not recorded: %s", instalment.pk, error)
        return
    Instalment.objects.filter(pk=instalment.pk).update(stripe_tax_transaction_id=transaction.id)


def _reverse_tax_transaction(instalment: Any, refund: Refund) -> None:
    """A refund of an off-session instalment gives back its share of the tax in Stripe
    Tax's reports (Checkout's charges are reversed by Stripe itself)."""
    try:
        _call(
            _client().v1.tax.transactions.create_reversal,
            {
                "mode": "partial",
                "original_transaction": instalment.stripe_tax_transaction_id,
                "flat_amount": -refund.amount,
                "reference": f"{_instalment_reference(instalment)}-refund-{refund.pk}",
            },
            idempotency_key=f"store-tax-reversal-{refund.pk}",
        )
    except GatewayError as error:
        log.warning("tax reversal for refund %s not recorded: %s", refund.pk, error)


def create_instalment_checkout_session(
    *, instalment: Any, success_url: str, cancel_url: str
) -> dict[str, str]:
    """A Checkout page for one missed instalment, paid with any card."""
    order = instalment.plan.order
    if is_simulated():
        session_id = f"cs_test_sim_{secrets.token_urlsafe(18)}"
        return {"id": session_id, "url": reverse("store:simulated-checkout", args=[session_id])}
    metadata = {"order_number": order.number, "instalment": str(instalment.pk)}
    title = order.items.all()[0].title
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": order.currency,
                    "unit_amount": instalment.amount,
                    "product_data": {
                        "name": f"{title}: instalment {instalment.number} of "
                        f"{instalment.plan.instalment_count}"
                    },
                },
            }
        ],
        "customer_email": order.email,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(time.time()) + settings.CHECKOUT_SESSION_MINUTES * 60,
    }
    if order.automatic_tax:
        # Its own tax, inside its amount, for the customer (and tax ID) kept at checkout.
        params["automatic_tax"] = {"enabled": True}
        params["line_items"][0]["price_data"]["tax_behavior"] = "inclusive"
        params["billing_address_collection"] = "required"
        if instalment.plan.stripe_customer_id:
            params["customer"] = instalment.plan.stripe_customer_id
            params["customer_update"] = {"address": "auto"}
            del params["customer_email"]
    session = _call(_client().v1.checkout.sessions.create, params)
    return {"id": session.id, "url": session.url}


def simulated_instalment_session(instalment: Any) -> dict[str, Any]:
    order = instalment.plan.order
    return {
        "id": instalment.stripe_checkout_session_id,
        "object": "checkout.session",
        "amount_total": instalment.amount,
        "currency": order.currency,
        "livemode": False,
        "metadata": {"order_number": order.number, "instalment": str(instalment.pk)},
        "mode": "payment",
        "payment_intent": f"pi_sim_{order.number}_{instalment.number}_checkout",
        "total_details": {"amount_tax": included_tax(order, instalment.amount)},
        "payment_status": "paid",
        "status": "complete",
    }


# --- Webhook signatures -----------------------------------------------------------


def construct_event(payload: bytes, header: str | None) -> dict[str, Any]:
    """Verify the signature over the raw body (and its age) and parse the event."""
    if not header:
        raise InvalidSignature("Missing Stripe-Signature header.")
    if not settings.STRIPE_WEBHOOK_SECRET:
        # An empty secret would make every signature "valid" to anyone who knows that.
        raise InvalidSignature("No webhook secret is configured.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), header, settings.STRIPE_WEBHOOK_SECRET, tolerance=300
        )
        event: dict[str, Any] = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
        raise InvalidSignature(str(error) or "Invalid signature.") from error
    if not isinstance(event, dict) or "id" not in event or "type" not in event:
        raise InvalidSignature("Not a Stripe event.")
    return event


def sign(payload: str, *, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(
        payload, settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp or int(time.time())
    )


# --- The simulated provider ---------------------------------------------------------


def make_event(event_type: str, data_object: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_sim_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": data_object},
    }


def simulated_tax(order: Order) -> int:
    """The simulated Stripe Tax on what Checkout charges (a plan's first instalment)."""
    return included_tax(order, order.charged_at_checkout)


def included_tax(order: Order, amount: int) -> int:
    """The simulated Stripe Tax: STORE_SIMULATED_TAX_PERCENT included in `amount`."""
    if not order.automatic_tax:
        return 0
    rate = settings.STORE_SIMULATED_TAX_PERCENT
    return amount - round(amount * 100 / (100 + rate))


def simulated_session(order: Order, *, payment_status: str = "paid") -> dict[str, Any]:
    return {
        "automatic_tax": {"enabled": order.automatic_tax, "status": "complete"},
        "total_details": {"amount_discount": order.discount, "amount_tax": simulated_tax(order)},
        "id": order.stripe_checkout_session_id,
        "object": "checkout.session",
        "amount_subtotal": order.subtotal,
        "amount_total": order.charged_at_checkout,
        "client_reference_id": order.number,
        "currency": order.currency,
        "customer_details": {"email": order.email, "name": None},
        "customer_email": order.email,
        "livemode": False,
        "metadata": {"order_number": order.number},
        "mode": "payment",
        "payment_intent": f"pi_sim_{order.number}",
        "payment_status": payment_status,
        "status": "complete" if payment_status == "paid" else "open",
    }


def simulated_charge(order: Order, *, amount_refunded: int) -> dict[str, Any]:
    return {
        "id": f"ch_sim_{order.number}",
        "object": "charge",
        "amount": order.total,
        "amount_captured": order.total,
        "amount_refunded": min(amount_refunded, order.total),
        "currency": order.currency,
        "metadata": {"order_number": order.number},
        "paid": True,
        "payment_intent": order.stripe_payment_intent_id or f"pi_sim_{order.number}",
        "refunded": amount_refunded >= order.total,
        "status": "succeeded",
    }


def simulated_instalment_charge(instalment: Any, *, amount_refunded: int) -> dict[str, Any]:
    """One instalment's own charge, as charge.refunded carries it."""
    order = instalment.plan.order
    return {
        "id": f"ch_sim_{order.number}_{instalment.number}",
        "object": "charge",
        "amount": instalment.amount,
        "amount_captured": instalment.amount,
        "amount_refunded": min(amount_refunded, instalment.amount),
        "currency": order.currency,
        "metadata": {"order_number": order.number, "instalment": str(instalment.pk)},
        "paid": True,
        "payment_intent": instalment.stripe_payment_intent_id,
        "refunded": amount_refunded >= instalment.amount,
        "status": "succeeded",
    }


def emit_simulated_event(event_type: str, data_object: dict[str, Any]) -> dict[str, Any]:
    """Sign an event as Stripe would and hand it to the webhook's own handling path."""
    from store.webhooks import receive

    if not is_simulated():
        # It signs with the real webhook secret: outside simulation it would forge events.
        raise GatewayError("The simulated provider is off.")

    payload = json.dumps(make_event(event_type, data_object))
    status, body = receive(payload.encode(), sign(payload))
    return {"status": status, **body}


def _simulated_session_state(session_id: str) -> dict[str, Any]:
    from store.models import Order, StripeEvent

    order = Order.objects.filter(stripe_checkout_session_id=session_id).first()
    if order is None:
        raise GatewayError("No such checkout session.")
    paid = StripeEvent.objects.filter(
        type="checkout.session.completed", payload__data__object__id=session_id
    ).exists()
    return simulated_session(order, payment_status="paid" if paid else "unpaid")
