"""The store's fixtures: private media in a temporary folder, products, signed events."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core import mail

from store import stripe_gateway
from store.models import Order, Product
from tests.store.factories import ProductFactory, add_pdf

FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


CHECKOUT_URL = "https://checkout.stripe.com/c/pay/cs_test_recorded"


@pytest.fixture
def stripe_calls(settings: Any, monkeypatch: Any) -> list[tuple[str, Any, Any]]:
    """Stripe's client as the gateway reaches it, recording instead of sending.

    Each `create` call is kept as (path, params, options), the path being the
    attributes it was reached by (".checkout.sessions"); it answers an object
    with an id ("obj_1", "obj_2", ...) and CHECKOUT_URL.
    """
    settings.STRIPE_SECRET_KEY = "sk_test_recording"
    calls: list[tuple[str, Any, Any]] = []

    class Recorder:
        def __init__(self, path: str = "") -> None:
            self.path = path

        def __getattr__(self, name: str) -> Any:
            return Recorder(f"{self.path}.{name}")

        def create(self, params: Any = None, options: Any = None) -> Any:
            calls.append((self.path, params, options))
            return type("Created", (), {"id": f"obj_{len(calls)}", "url": CHECKOUT_URL})()

    monkeypatch.setattr(stripe_gateway, "_client", lambda: Recorder())
    return calls


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def paid_guide(db: None) -> Any:
    from django.utils import timezone

    from guides.models import Category, Guide

    category = Category.objects.create(name="Interviews", slug="interviews")
    return Guide.objects.create(
        title="The paid loop",
        slug="the-paid-loop",
        summary="Inside the loop.",
        body="Public opening.\n\n<!-- more -->\n\nSECRET PAID PARAGRAPH about the loop.",
        category=category,
        visibility="paid",
        status="published",
        published_at=timezone.now(),
    )


@pytest.fixture
def product(db: None, paid_guide: Any) -> Product:
    """A download that also unlocks a paid guide online, with one PDF version."""
    item = ProductFactory(slug="study-guide", title="Study guide", price=2900)
    item.guides.add(paid_guide)
    add_pdf(item)
    return item


@pytest.fixture
def coaching_package(db: None) -> Product:
    return ProductFactory(
        slug="sprint",
        title="Sprint",
        kind=Product.Kind.COACHING,
        session_credits=3,
        validity_days=90,
        price=45000,
    )


def load_fixture(name: str, **replace: Any) -> dict[str, Any]:
    """A real-shaped Stripe event from tests/store/fixtures, with our ids put in."""
    text = (FIXTURES / f"{name}.json").read_text()
    for key, value in replace.items():
        text = text.replace("{{" + key + "}}", str(value))
    event: dict[str, Any] = json.loads(text)
    return event


def session_completed(order: Order, **extra: Any) -> dict[str, Any]:
    return load_fixture(
        "checkout.session.completed",
        event_id=extra.get("event_id", f"evt_1{order.number}"),
        session_id=order.stripe_checkout_session_id,
        order_number=order.number,
        email=order.email,
        amount=order.total,
        payment_status=extra.get("payment_status", "paid"),
    )


def charge_refunded(order: Order, *, amount_refunded: int, event_id: str = "") -> dict[str, Any]:
    return load_fixture(
        "charge.refunded",
        event_id=event_id or f"evt_2{order.number}{amount_refunded}",
        order_number=order.number,
        amount=order.total,
        amount_refunded=amount_refunded,
        refunded=str(amount_refunded >= order.total).lower(),
    )


def dispute(order: Order, *, kind: str = "created", status: str = "needs_response") -> dict:
    return load_fixture(
        f"charge.dispute.{kind}",
        event_id=f"evt_3{order.number}{kind}",
        order_number=order.number,
        amount=order.total,
        status=status,
    )


def signed(event: dict[str, Any], *, timestamp: int | None = None) -> tuple[bytes, str]:
    payload = json.dumps(event)
    return payload.encode(), stripe_gateway.sign(payload, timestamp=timestamp or int(time.time()))


def committed() -> Any:
    """Run on-commit work (Celery hand-offs, emails) inside a rolled-back test."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def post_event(client: Any, event: dict[str, Any], **kwargs: Any) -> Any:
    payload, header = signed(event, **kwargs)
    with committed():
        return client.post(
            "/stripe/webhook/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )


def start_order(product: Product, email: str = "buyer@example.com", user: Any = None) -> Order:
    from store.services import start_checkout

    started = start_checkout(
        product=product,
        email=email,
        user=user,
        success_url="http://testserver/store/checkout/success/",
        cancel_url="http://testserver/store/",
    )
    return started.order


@pytest.fixture
def paid_order(client: Any, candidate: Any, product: Product) -> Order:
    """`candidate`'s paid order for `product`, its receipt emails cleared."""
    order = start_order(product, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    order.refresh_from_db()
    mail.outbox.clear()
    return order
