"""Checkouts and refund requests are limited, so no one can spray orders or requests."""

from __future__ import annotations

from typing import Any

import pytest

from store.models import Order

pytestmark = pytest.mark.django_db


def test_starting_checkout_after_checkout_from_one_network_is_refused_with_a_429(
    client: Any, product: Any, settings: Any
) -> None:
    allowed = settings.THROTTLE_LIMITS["checkout"]["ip"][0]
    statuses = [
        client.post("/store/study-guide/", {"email": f"b{index}@example.com"}).status_code
        for index in range(allowed + 1)
    ]

    assert statuses[:allowed] == [302] * allowed
    assert statuses[allowed] == 429
    assert Order.objects.count() == allowed


def test_a_buyer_can_ask_for_refunds_only_a_few_times_a_day(
    client: Any, candidate: Any, paid_order: Order, settings: Any
) -> None:
    allowed = settings.THROTTLE_LIMITS["refund-request"]["email"][0]
    client.force_login(candidate)
    url = f"/library/orders/{paid_order.number}/refund/"

    statuses = [client.post(url, {"reason": "again"}).status_code for _ in range(allowed + 1)]

    assert statuses[:allowed] == [302] * allowed
    assert statuses[allowed] == 429
