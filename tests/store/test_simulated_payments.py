"""The simulated provider exists only outside production, whatever else is set."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from store import stripe_gateway
from store.models import Entitlement, Order
from store.services import CheckoutError, start_checkout
from tests.store.conftest import committed, session_completed, start_order

pytestmark = pytest.mark.django_db


def test_with_production_on_the_simulated_checkout_page_answers_404(
    client: Any, settings: Any, product: Any
) -> None:
    order = start_order(product)
    settings.PRODUCTION = True
    settings.STRIPE_SECRET_KEY = ""
    url = f"/store/checkout/simulated/{order.stripe_checkout_session_id}/"

    assert client.get(url).status_code == 404
    with committed():
        assert client.post(url, {"action": "pay"}).status_code == 404

    order.refresh_from_db()
    assert order.paid_at is None
    assert not Entitlement.objects.exists()


def test_with_production_on_the_gateway_refuses_to_create_a_simulated_session(
    settings: Any, product: Any
) -> None:
    settings.PRODUCTION = True
    settings.STRIPE_SECRET_KEY = ""

    with pytest.raises(CheckoutError):
        start_checkout(
            product=product,
            email="buyer@example.com",
            success_url="https://coach.example.com/store/checkout/success/",
            cancel_url="https://coach.example.com/store/",
        )

    assert not Order.objects.exists()
    assert not stripe_gateway.is_simulated()


def test_with_production_on_no_simulated_event_is_signed(settings: Any, product: Any) -> None:
    order = start_order(product)
    settings.PRODUCTION = True

    with pytest.raises(stripe_gateway.GatewayError):
        stripe_gateway.emit_simulated_event(
            "checkout.session.completed", stripe_gateway.simulated_session(order)
        )

    order.refresh_from_db()
    assert order.paid_at is None


def test_outside_production_without_a_key_the_simulated_checkout_pays(
    client: Any, product: Any
) -> None:
    order = start_order(product)
    with committed():
        client.post(f"/store/checkout/simulated/{order.stripe_checkout_session_id}/")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID


def test_an_empty_webhook_secret_refuses_every_event(
    client: Any, settings: Any, product: Any
) -> None:
    order = start_order(product)
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = json.dumps(session_completed(order))
    header = stripe.WebhookSignature.generate_signature_header(payload, "")

    response = client.post(
        "/stripe/webhook/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip

    assert response.status_code == 400
    order.refresh_from_db()
    assert order.paid_at is None
