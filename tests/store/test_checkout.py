from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import stripe
from django.core import mail
from django.utils import timezone

from store import stripe_gateway
from store.models import Coupon, Entitlement, Order, OrderItem
from tests.store.conftest import CHECKOUT_URL, committed
from tests.store.factories import CouponFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_the_store_lists_active_products_with_prices(client: Any, product: Any) -> None:
    ProductFactory(title="Hidden thing", is_active=False)
    page = client.get("/store/").content.decode()
    assert "Study guide" in page
    assert "£29.00" in page
    assert "Hidden thing" not in page


def test_a_product_page_shows_what_is_included_and_the_policy_before_payment(
    client: Any, product: Any
) -> None:
    product.included = "A stamped PDF\nFree updates"
    product.preview = "## Sample chapter\n\nA taste."
    product.refund_policy = "Full refund within 14 days."
    product.save()

    page = client.get("/store/study-guide/").content.decode()

    for text in ("A stamped PDF", "Sample chapter", "Full refund within 14 days.", "The paid loop"):
        assert text in page
    assert page.index("Full refund within 14 days.") < page.index('type="submit"')


def test_buying_as_a_guest_goes_through_the_simulated_provider(client: Any, product: Any) -> None:
    response = client.post("/store/study-guide/", {"email": "Guest@Example.com"})

    order = Order.objects.get()
    assert order.email == "guest@example.com"
    assert order.policy_snapshot["refund_window_days"] == 14
    assert response.status_code == 302
    assert response["Location"] == f"/store/checkout/simulated/{order.stripe_checkout_session_id}/"
    page = client.get(response["Location"]).content.decode()
    assert "Test payment" in page

    with committed():
        paid = client.post(response["Location"], {"action": "pay"})

    assert paid["Location"].startswith("/store/checkout/success/?session_id=")
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.filter(user__email="guest@example.com").count() == 1
    success = client.get(paid["Location"]).content.decode()
    assert order.number in success
    assert "Email me a sign-in code" in success
    assert len(mail.outbox) == 1


def test_the_success_page_alone_cannot_fulfil_an_unpaid_session(client: Any, product: Any) -> None:
    client.post("/store/study-guide/", {"email": "guest@example.com"})
    order = Order.objects.get()

    with committed():
        page = client.get(f"/store/checkout/success/?session_id={order.stripe_checkout_session_id}")

    assert "Confirming your payment" in page.content.decode()
    order.refresh_from_db()
    assert order.paid_at is None
    assert not Entitlement.objects.exists()
    assert client.get("/store/checkout/success/?session_id=cs_nope").status_code == 404


def test_when_stripe_is_unreachable_the_buyer_is_told_and_nothing_is_written(
    client: Any, product: Any, settings: Any, monkeypatch: Any
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_unreachable"
    coupon = CouponFactory(code="HALF", percent_off=50, max_redemptions=1)

    class Unreachable:
        def __getattr__(self, name: str) -> Any:
            return self

        def create(self, *args: Any, **kwargs: Any) -> Any:
            raise stripe.APIConnectionError("Network is unreachable")

    monkeypatch.setattr(stripe_gateway, "_client", lambda: Unreachable())

    response = client.post("/store/study-guide/", {"email": "a@example.com", "coupon": "half"})

    assert response.status_code == 400
    assert "could not reach the payment provider" in response.content.decode()
    assert Order.objects.count() == 0
    assert OrderItem.objects.count() == 0
    coupon.refresh_from_db()
    assert coupon.times_redeemed == 0


def test_real_stripe_calls_carry_idempotency_keys_and_a_thirty_minute_expiry(
    product: Any, stripe_calls: list[Any]
) -> None:
    from store.services import start_checkout

    before = int(time.time())
    started = start_checkout(
        product=product, email="a@example.com",
        success_url="https://site/success/", cancel_url="https://site/store/",
    )  # fmt: skip

    (_, params, options), *_ = stripe_calls
    assert started.url == CHECKOUT_URL
    assert before + 1800 <= params["expires_at"] <= int(time.time()) + 1800
    assert options == {"idempotency_key": f"store-checkout-{started.order.number}"}
    assert params["metadata"] == {"order_number": started.order.number}
    assert params["line_items"][0]["price_data"]["unit_amount"] == 2900


def test_a_coupon_lowers_the_total_and_its_last_place_held_by_an_open_checkout_is_refused(
    client: Any, product: Any
) -> None:
    CouponFactory(code="SPRING", percent_off=20, max_redemptions=1)

    client.post("/store/study-guide/", {"email": "a@example.com", "coupon": "spring"})
    again = client.post("/store/study-guide/", {"email": "b@example.com", "coupon": "SPRING"})

    order = Order.objects.get()
    assert (order.subtotal, order.discount, order.total) == (2900, 580, 2320)
    assert again.status_code == 400
    assert "used up" in again.content.decode()
    # Nothing is redeemed until a payment succeeds.
    assert Coupon.objects.get().times_redeemed == 0


def test_an_abandoned_checkout_frees_the_coupon_once_its_session_has_expired(
    client: Any, product: Any, settings: Any
) -> None:
    CouponFactory(code="SPRING", percent_off=20, max_redemptions=1)
    client.post("/store/study-guide/", {"email": "a@example.com", "coupon": "spring"})
    Order.objects.update(
        created_at=timezone.now() - timedelta(minutes=settings.CHECKOUT_SESSION_MINUTES + 1)
    )

    again = client.post("/store/study-guide/", {"email": "b@example.com", "coupon": "SPRING"})

    assert again.status_code == 302
    assert Order.objects.count() == 2


def test_an_expired_coupon_is_refused(client: Any, product: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    CouponFactory(code="OLD", expires_at=timezone.now() - timedelta(days=1))
    response = client.post("/store/study-guide/", {"email": "a@example.com", "coupon": "old"})
    assert response.status_code == 400
    assert Order.objects.count() == 0


def test_pay_what_you_want_enforces_the_minimum(client: Any) -> None:
    ProductFactory(slug="pwyw", pay_what_you_want=True, minimum_amount=900, price=1900)

    low = client.post("/store/pwyw/", {"email": "a@example.com", "amount": "5.00"})
    fair = client.post("/store/pwyw/", {"email": "a@example.com", "amount": "12.50"})

    assert low.status_code == 400
    assert "minimum is £9.00" in low.content.decode()
    assert fair.status_code == 302
    assert Order.objects.get().total == 1250


def test_bad_input_is_a_form_error_not_a_500(client: Any, product: Any) -> None:
    response = client.post("/store/study-guide/", {"email": "not-an-email"})
    assert response.status_code == 400
    assert Order.objects.count() == 0
    assert client.get("/store/no-such-thing/").status_code == 404
