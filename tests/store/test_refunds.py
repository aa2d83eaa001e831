from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection

from store import stripe_gateway
from store.models import Entitlement, Order, Product, Refund, StripeEvent
from store.services import RefundOutcome, refund_order, request_refund
from tests.store.conftest import committed, start_order

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
    paid_order: Order, stripe_calls: list[Any]
) -> None:
    refund = refund_order(order=paid_order, amount=500)

    (_, params, options), *_ = stripe_calls
    assert options == {"idempotency_key": f"store-refund-{refund.pk}"}
    assert params["payment_intent"] == paid_order.stripe_payment_intent_id
    assert params["amount"] == 500


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


def _ask(client: Any, order: Order, reason: str = "Not for me") -> Any:
    with committed():
        return client.post(f"/library/orders/{order.number}/refund/", {"reason": reason})


def test_a_refund_asked_inside_the_window_on_an_unused_order_is_paid_at_once_and_revokes(
    client: Any, candidate: Any, paid_order: Order
) -> None:
    client.force_login(candidate)
    assert "Refund now" in client.get(paid_order.get_absolute_url()).content.decode()

    response = _ask(client, paid_order)

    paid_order.refresh_from_db()
    assert response.status_code == 302
    assert paid_order.status == Order.Status.REFUNDED
    assert paid_order.refunds.get().reason == "Automatic: inside the refund window"
    assert not Entitlement.objects.active().filter(order=paid_order).exists()
    # The buyer hears that the money went back; the coach is not asked anything.
    assert [m.to[0] for m in mail.outbox] == ["candidate@example.com"]
    assert "Refund for order" in mail.outbox[0].subject
    assert "SECRET PAID PARAGRAPH" not in client.get("/guides/the-paid-loop/").content.decode()


def test_asking_twice_refunds_once(client: Any, candidate: Any, paid_order: Order) -> None:
    client.force_login(candidate)
    _ask(client, paid_order)
    second = _ask(client, paid_order, reason="Again")

    assert second.status_code == 302
    paid_order.refresh_from_db()
    assert Refund.objects.filter(order=paid_order).count() == 1
    assert paid_order.amount_refunded == paid_order.total
    assert StripeEvent.objects.filter(type="charge.refunded").count() == 1
    assert paid_order.refund_request_reason == "Not for me"


def test_two_requests_at_the_same_moment_refund_once(
    candidate: Any, product: Any, transactional_db: None
) -> None:
    from tests.store.conftest import post_event, session_completed, start_order

    order = start_order(product, email=candidate.email, user=candidate)
    from django.test import Client

    post_event(Client(), session_completed(order))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def ask() -> None:
        try:
            barrier.wait()
            outcomes.append(request_refund(order=order, reason="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [RefundOutcome.REFUNDED, RefundOutcome.REFUSED]
    assert Refund.objects.filter(order=order).count() == 1


def test_a_downloaded_order_inside_the_window_becomes_a_request_for_the_coach(
    client: Any, candidate: Any, paid_order: Order, product: Any
) -> None:
    client.force_login(candidate)
    file_pk = product.files.get().pk
    download = client.get(f"/library/files/{file_pk}/download/", follow=True)
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    page = client.get(paid_order.get_absolute_url()).content.decode()
    assert "Ask for a refund" in page and "This order has been used" in page

    _ask(client, paid_order)

    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 0
    assert paid_order.refund_request_reason == "Not for me"
    assert Entitlement.objects.active().filter(order=paid_order).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["candidate@example.com", "coach@example.com"]


def test_a_refund_asked_after_the_window_becomes_a_request_for_the_coach(
    client: Any, candidate: Any, paid_order: Order
) -> None:
    with time_machine.travel(timedelta(days=15)):
        client.force_login(candidate)  # a session from before would have expired
        page = client.get(paid_order.get_absolute_url()).content.decode()
        assert "The refund window closed on" in page
        response = _ask(client, paid_order)
    assert response.status_code == 302
    paid_order.refresh_from_db()
    assert paid_order.refund_requested_at is not None
    assert paid_order.amount_refunded == 0
    assert Refund.objects.count() == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["candidate@example.com", "coach@example.com"]


def test_the_policy_agreed_at_checkout_decides_not_a_later_change_to_the_product(
    client: Any, candidate: Any, paid_order: Order, product: Any
) -> None:
    product.automatic_refunds = Product.AutomaticRefunds.NEVER
    product.save()
    client.force_login(candidate)
    _ask(client, paid_order)
    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.REFUNDED

    later = start_order(product, email=candidate.email, user=candidate)
    assert later.policy_snapshot["automatic_refunds"] == Product.AutomaticRefunds.NEVER


def test_a_product_whose_coach_decides_every_refund_records_a_request(
    client: Any, candidate: Any, paid_order: Order
) -> None:
    paid_order.policy_snapshot["automatic_refunds"] = Product.AutomaticRefunds.NEVER
    paid_order.save(update_fields=["policy_snapshot"])
    client.force_login(candidate)
    assert "Ask for a refund" in client.get(paid_order.get_absolute_url()).content.decode()
    _ask(client, paid_order)
    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 0 and paid_order.refund_requested_at is not None


def test_when_stripe_cannot_refund_the_request_goes_to_the_coach(
    client: Any, candidate: Any, paid_order: Order, monkeypatch: Any
) -> None:
    def unavailable(**kwargs: Any) -> str:
        raise stripe_gateway.StripeUnavailable("The payment provider could not be reached.")

    monkeypatch.setattr(stripe_gateway, "create_refund", unavailable)
    client.force_login(candidate)
    _ask(client, paid_order)

    paid_order.refresh_from_db()
    assert paid_order.amount_refunded == 0
    assert paid_order.refund_requested_at is not None
    assert Entitlement.objects.active().filter(order=paid_order).exists()
    assert "coach@example.com" in [m.to[0] for m in mail.outbox]


def test_the_admin_lists_orders_products_and_events(coach_client: Any, paid_order: Order) -> None:
    for url in (
        "/admin/store/order/", f"/admin/store/order/{paid_order.pk}/change/",
        "/admin/store/product/", "/admin/store/coupon/", "/admin/store/entitlement/",
        "/admin/store/stripeevent/", "/admin/store/creditgrant/", "/admin/store/productfile/",
        "/admin/store/product/add/", "/admin/store/order/?status__exact=paid",
    ):  # fmt: skip
        assert coach_client.get(url).status_code == 200, url


def test_an_any_reason_policy_refunds_a_downloaded_order_at_once_inside_the_window(
    client: Any, candidate: Any, paid_order: Order, product: Any
) -> None:
    paid_order.policy_snapshot["automatic_refunds"] = Product.AutomaticRefunds.ANY
    paid_order.save(update_fields=["policy_snapshot"])
    client.force_login(candidate)
    download = client.get(f"/library/files/{product.files.get().pk}/download/", follow=True)
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    assert paid_order.was_used()

    _ask(client, paid_order)

    paid_order.refresh_from_db()
    assert paid_order.status == Order.Status.REFUNDED
    assert not Entitlement.objects.active().filter(order=paid_order).exists()
    assert "coach@example.com" not in [m.to[0] for m in mail.outbox]


def test_a_package_with_a_session_used_inside_the_window_becomes_a_request_for_the_coach(
    client: Any, candidate: Any, coaching_package: Product
) -> None:
    from store.models import CreditGrant
    from tests.store.conftest import post_event, session_completed

    coaching_package.automatic_refunds = Product.AutomaticRefunds.UNUSED
    coaching_package.save()
    order = start_order(coaching_package, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    assert CreditGrant.objects.get(order=order).use_one(reason="A booked call")

    client.force_login(candidate)
    _ask(client, order)

    order.refresh_from_db()
    assert order.amount_refunded == 0 and order.refund_requested_at is not None
    assert CreditGrant.objects.get(order=order).remaining == 2


def test_a_product_sold_without_a_refund_window_takes_no_request(
    client: Any, candidate: Any, paid_order: Order
) -> None:
    Order.objects.filter(pk=paid_order.pk).update(refund_window_days=0)
    client.force_login(candidate)
    page = client.get(paid_order.get_absolute_url()).content.decode()
    assert "Ask for a refund" not in page and "Refund now" not in page

    assert request_refund(order=Order.objects.get(pk=paid_order.pk), reason="x") == (
        RefundOutcome.REFUSED
    )
    assert Order.objects.get(pk=paid_order.pk).refund_requested_at is None
