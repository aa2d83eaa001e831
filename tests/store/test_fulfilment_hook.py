"""Apps above the store hear about a fulfilled order once, inside fulfilment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from store import services
from store.models import Entitlement, Order, Product
from tests.store.conftest import post_event, session_completed, start_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[list[str]]:
    from store.signals import order_fulfilled

    calls: list[str] = []

    def listener(order: Order, **extra: Any) -> None:
        calls.append(order.number)

    order_fulfilled.connect(listener, dispatch_uid="test-heard")
    yield calls
    order_fulfilled.disconnect(dispatch_uid="test-heard")


def test_order_fulfilled_is_sent_once_per_order(
    client: Any, product: Product, heard: list[str]
) -> None:
    order = start_order(product)

    post_event(client, session_completed(order))
    post_event(client, session_completed(order, event_id="evt_1again"))
    services.fulfil_checkout(session_id=str(order.stripe_checkout_session_id))

    assert heard == [order.number]


def test_a_session_product_is_hidden_and_grants_no_library_item(client: Any) -> None:
    product = services.session_product(
        slug="session-strategy", title="Strategy session", amount=15000, currency="GBP",
        refund_policy="Cancel 24 hours ahead for a full refund.",
    )  # fmt: skip
    again = services.session_product(
        slug="session-strategy", title="Strategy session", amount=17500, currency="GBP",
        refund_policy="Cancel 24 hours ahead for a full refund.",
    )  # fmt: skip
    order = start_order(again)

    post_event(client, session_completed(order))

    assert again.pk == product.pk and not again.is_active
    assert [(p.amount, p.is_active) for p in again.prices.order_by("pk")] == [
        (15000, False),
        (17500, True),
    ]
    assert Order.objects.get(pk=order.pk).total == 17500
    assert not Entitlement.objects.exists()
    assert client.get("/store/session-strategy/").status_code == 404
