"""Races against the real database: threads, committed transactions, eager Celery."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection
from django.test import Client

from coaching.models import OutboundEmail
from store.models import Coupon, Entitlement, Order, StripeEvent
from store.services import CheckoutError, start_checkout
from tests.store.conftest import session_completed, signed, start_order
from tests.store.factories import CouponFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = jobs[index]()
        except Exception as error:  # noqa: BLE001 - reported to the test
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_deliveries_racing_the_success_page_fulfil_exactly_once(product: Any) -> None:
    order = start_order(product)
    payload, header = signed(session_completed(order))
    # The simulated provider answers the success page's "is it paid?" from the
    # recorded events, so the success page races the webhook's processing.

    def deliver() -> int:
        return Client().post(
            "/stripe/webhook/", data=payload, content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        ).status_code  # fmt: skip

    def success_page() -> int:
        url = f"/store/checkout/success/?session_id={order.stripe_checkout_session_id}"
        return Client().get(url).status_code

    results = run_together([deliver] * 20 + [success_page] * 6)

    assert results == [200] * 26
    assert StripeEvent.objects.count() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.count() == 1
    assert OutboundEmail.objects.filter(template="store-receipt").count() == 1
    assert len(mail.outbox) == 1


def test_fulfilment_called_from_many_threads_at_once_fulfils_once(product: Any) -> None:
    from store.services import fulfil_checkout

    order = start_order(product)
    session = session_completed(order)["data"]["object"]

    results = run_together(
        [lambda: fulfil_checkout(session_id=session["id"], session=session)] * 10
    )

    assert not [r for r in results if isinstance(r, Exception)]
    assert Entitlement.objects.count() == 1
    assert OutboundEmail.objects.filter(template="store-receipt").count() == 1


def test_a_coupon_limit_holds_under_concurrent_checkouts(product: Any) -> None:
    coupon = CouponFactory(code="FIRST3", percent_off=10, max_redemptions=3)

    def buy(index: int) -> Any:
        return lambda: start_checkout(
            product=product, email=f"b{index}@example.com", coupon_code="first3",
            success_url="http://t/s/", cancel_url="http://t/c/",
        )  # fmt: skip

    results = run_together([buy(i) for i in range(10)])

    refused = [r for r in results if isinstance(r, CheckoutError)]
    assert len(refused) == 7
    assert Order.objects.filter(coupon=coupon).count() == 3
    assert Coupon.objects.get().orders_in_checkout().count() == 3
