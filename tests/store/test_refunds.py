from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from store import stripe_gateway
from store.models import Entitlement, Order, Refund, StripeEvent
from store.services import refund_order
from tests.store.conftest import committed

pytestmark = pytest.mark.django_db


def test_a_full_refund_from_the_admin_goes_through_the_gateway_and_revokes(
    paid_order: Order, coach: Any
) -> None:
    with committed():
        refund = refund_order(order=paid_order, by=coach)

    paid_order.refresh_from_db()
    assert refund.stripe_refund_id == f"re_sim_{refund.pk}"
    assert paid_order.status == Order.Status.REFUNDED
    assert not Entitlement.objects.active().exists()
    # The simulated provider sent charge.refunded through the webhook path too.
    assert StripeEvent.objects.filter(type="charge.refunded").exists()
    assert len([m for m in mail.outbox if "Refund for order" in m.subject]) == 1


def test_a_partial_refund_keeps_access_and_cannot_exceed_what_is_left(
    paid_order: Order, coach: Any
) -> None:
    with committed():
        refund_order(order=paid_order, amount=900, by=coach)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.PARTIALLY_REFUNDED
    assert Entitlement.objects.active().count() == 1

    with pytest.raises(stripe_gateway.GatewayError):
        refund_order(order=paid_order, amount=paid_order.total, by=coach)
    assert Refund.objects.count() == 1


def test_real_refunds_use_the_refund_row_as_idempotency_key(
    paid_order: Order, settings: Any, monkeypatch: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_recording"
    calls: list[Any] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            return self

        def create(self, params: Any = None, options: Any = None) -> Any:
            calls.append((params, options))
            return type("R", (), {"id": "re_123"})()

    monkeypatch.setattr(stripe_gateway, "_client", lambda: Recorder())
    refund = refund_order(order=paid_order, amount=500)

    assert calls[0][1] == {"idempotency_key": f"store-refund-{refund.pk}"}
    assert calls[0][0]["payment_intent"] == paid_order.stripe_payment_intent_id
    assert calls[0][0]["amount"] == 500


def test_the_admin_refund_page_refunds_part_of_an_order(
    coach_client: Any, paid_order: Order
) -> None:
    url = f"/admin/store/order/{paid_order.pk}/refund/"
    assert coach_client.get(url).status_code == 200

    with committed():
        response = coach_client.post(url, {"amount": "10.00"})

    assert response.status_code == 302
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 1000
    too_much = coach_client.post(url, {"amount": "100.00"})
    assert too_much.status_code == 200
    assert "more than what is left" in too_much.content.decode()


def test_a_buyer_can_ask_for_a_refund_inside_the_window(
    client: Any, candidate: Any, paid_order: Order
) -> None:
    client.force_login(candidate)
    page = client.get(paid_order.get_absolute_url()).content.decode()
    assert "Ask for a refund" in page

    with committed():
        client.post(f"/library/orders/{paid_order.number}/refund/", {"reason": "Not for me"})
    with committed():
        client.post(f"/library/orders/{paid_order.number}/refund/", {"reason": "Again"})

    paid_order.refresh_from_db()
    assert paid_order.refund_request_reason == "Not for me"
    assert sorted(m.to[0] for m in mail.outbox) == ["candidate@example.com", "coach@example.com"]


def test_a_refund_request_after_the_window_is_refused(
    client: Any, candidate: Any, paid_order: Order
) -> None:
    client.force_login(candidate)
    with time_machine.travel(timedelta(days=15)):
        response = client.post(f"/library/orders/{paid_order.number}/refund/", {"reason": "x"})
        assert "Ask for a refund" not in client.get(paid_order.get_absolute_url()).content.decode()
    assert response.status_code == 302
    paid_order.refresh_from_db()
    assert paid_order.refund_requested_at is None
    assert mail.outbox == []


def test_the_admin_lists_orders_products_and_events(coach_client: Any, paid_order: Order) -> None:
    for url in (
        "/admin/store/order/", f"/admin/store/order/{paid_order.pk}/change/",
        "/admin/store/product/", "/admin/store/coupon/", "/admin/store/entitlement/",
        "/admin/store/stripeevent/", "/admin/store/creditgrant/", "/admin/store/productfile/",
        "/admin/store/product/add/", "/admin/store/order/?status__exact=paid",
    ):  # fmt: skip
        assert coach_client.get(url).status_code == 200, url
