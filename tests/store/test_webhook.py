from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.core import mail

from coaching.models import OutboundEmail, User
from guides.access import can_view
from store.models import CreditGrant, Entitlement, Order, StripeEvent
from tests.store.conftest import (
    charge_refunded,
    dispute,
    load_fixture,
    post_event,
    session_completed,
    signed,
    start_order,
)

pytestmark = pytest.mark.django_db


def test_a_completed_checkout_fulfils_the_order_once(client: Any, product: Any) -> None:
    order = start_order(product)

    response = post_event(client, session_completed(order))

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.fulfilled_at is not None
    assert order.stripe_payment_intent_id == f"pi_3{order.number}"
    buyer = User.objects.get(email="buyer@example.com")
    assert not buyer.has_usable_password()
    assert order.user == buyer
    assert Entitlement.objects.filter(user=buyer, product=product, status="active").count() == 1
    assert [m.subject for m in mail.outbox] == [f"Your receipt for order {order.number}"]
    assert StripeEvent.objects.get().processed_at is not None


def test_the_purchase_unlocks_the_paid_guide(client: Any, product: Any, paid_guide: Any) -> None:
    order = start_order(product)
    buyer_before = User.objects.create_user("buyer@example.com")
    assert not can_view(User.objects.get(pk=buyer_before.pk), paid_guide)

    post_event(client, session_completed(order))

    assert can_view(User.objects.get(pk=buyer_before.pk), paid_guide)


def test_a_forged_signature_is_refused_and_changes_nothing(client: Any, product: Any) -> None:
    order = start_order(product)
    payload, header = signed(session_completed(order))
    forged = header.replace(header.split("v1=")[1][:8], "deadbeef")

    response = client.post(
        "/stripe/webhook/", data=payload, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=forged,
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["error"] == "invalid signature"
    assert StripeEvent.objects.count() == 0
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert Entitlement.objects.count() == 0
    assert mail.outbox == []


def test_a_stale_signature_is_refused(client: Any, product: Any) -> None:
    order = start_order(product)

    response = post_event(client, session_completed(order), timestamp=int(time.time()) - 600)

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0
    assert Entitlement.objects.count() == 0


def test_a_body_changed_after_signing_is_refused(client: Any, product: Any) -> None:
    order = start_order(product)
    payload, header = signed(session_completed(order))
    tampered = payload.replace(b'"amount_total": 2900', b'"amount_total": 1')

    response = client.post(
        "/stripe/webhook/", data=tampered, content_type="application/json",
        HTTP_STRIPE_SIGNATURE=header,
    )  # fmt: skip

    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_a_missing_signature_or_garbage_body_is_a_400_with_json(client: Any) -> None:
    assert client.post("/stripe/webhook/", data=b"{}", content_type="application/json").json()
    response = client.post(
        "/stripe/webhook/", data=b"\xff\xfe", content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=abc",
    )  # fmt: skip
    assert response.status_code == 400
    assert "error" in response.json()


def test_the_same_event_twenty_times_fulfils_once(client: Any, product: Any) -> None:
    order = start_order(product)
    event = session_completed(order)

    statuses = [post_event(client, event).json()["status"] for _ in range(20)]

    assert statuses == ["received"] + ["duplicate"] * 19
    assert StripeEvent.objects.count() == 1
    assert Entitlement.objects.count() == 1
    assert OutboundEmail.objects.filter(template="store-receipt").count() == 1
    assert len(mail.outbox) == 1


def test_distinct_events_for_one_session_still_fulfil_once(client: Any, product: Any) -> None:
    order = start_order(product)

    post_event(client, session_completed(order, event_id="evt_a"))
    post_event(client, session_completed(order, event_id="evt_b"))
    succeeded = load_fixture(
        "checkout.session.async_payment_succeeded", event_id="evt_c",
        session_id=order.stripe_checkout_session_id, order_number=order.number,
        email=order.email, amount=order.total, payment_status="paid",
    )  # fmt: skip
    post_event(client, succeeded)

    assert StripeEvent.objects.count() == 3
    assert Entitlement.objects.count() == 1
    assert len(mail.outbox) == 1


def test_unknown_event_types_get_a_200_and_are_recorded_as_ignored(client: Any) -> None:
    event = load_fixture("charge.refunded", event_id="evt_x", order_number="N", amount=1,
                         amount_refunded=0, refunded="false")  # fmt: skip
    event["type"] = "customer.created"

    response = post_event(client, event)

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert StripeEvent.objects.get().result == "ignored"


def test_a_refund_arriving_before_completion_ends_refunded_without_access(
    client: Any, product: Any
) -> None:
    order = start_order(product)

    post_event(client, charge_refunded(order, amount_refunded=order.total))
    post_event(client, session_completed(order))

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert order.paid_at is not None
    assert not Entitlement.objects.active().exists()
    assert not OutboundEmail.objects.filter(template="store-receipt").exists()


def test_a_full_refund_after_completion_revokes_access(client: Any, product: Any) -> None:
    order = start_order(product)
    post_event(client, session_completed(order))

    post_event(client, charge_refunded(order, amount_refunded=order.total))

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert Entitlement.objects.get().status == Entitlement.Status.REVOKED
    assert OutboundEmail.objects.filter(template="store-refund-issued").count() == 1


def test_a_partial_refund_keeps_access(client: Any, product: Any) -> None:
    order = start_order(product)
    post_event(client, session_completed(order))

    post_event(client, charge_refunded(order, amount_refunded=900))
    # An older, smaller cumulative figure arriving late changes nothing.
    post_event(client, charge_refunded(order, amount_refunded=500))

    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert order.amount_refunded == 900
    assert Entitlement.objects.get().status == Entitlement.Status.ACTIVE


def test_a_lost_dispute_revokes_and_a_won_one_keeps(client: Any, product: Any) -> None:
    lost = start_order(product, email="lost@example.com")
    won = start_order(product, email="won@example.com")
    for order in (lost, won):
        post_event(client, session_completed(order))
        post_event(client, dispute(order))
    assert Order.objects.filter(status=Order.Status.DISPUTED).count() == 2
    assert Entitlement.objects.active().count() == 2

    post_event(client, dispute(lost, kind="closed", status="lost"))
    post_event(client, dispute(won, kind="closed", status="won"))

    lost.refresh_from_db()
    won.refresh_from_db()
    assert lost.status == Order.Status.DISPUTED
    assert not lost.entitlements.active().exists()
    assert won.status == Order.Status.PAID
    assert won.entitlements.active().count() == 1


def test_an_async_payment_completes_only_when_it_succeeds(client: Any, product: Any) -> None:
    order = start_order(product)

    post_event(client, session_completed(order, payment_status="unpaid"))
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING
    assert not Entitlement.objects.exists()

    succeeded = load_fixture(
        "checkout.session.async_payment_succeeded", event_id="evt_ok",
        session_id=order.stripe_checkout_session_id, order_number=order.number,
        email=order.email, amount=order.total, payment_status="paid",
    )  # fmt: skip
    post_event(client, succeeded)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Entitlement.objects.count() == 1


def test_a_failed_async_payment_fails_the_order_and_frees_the_coupon_without_redeeming_it(
    client: Any, product: Any
) -> None:
    from store.services import start_checkout
    from tests.store.factories import CouponFactory

    coupon = CouponFactory(code="ONCE", max_redemptions=1)
    order = start_checkout(
        product=product, email="a@example.com", coupon_code="once",
        success_url="http://testserver/s/", cancel_url="http://testserver/c/",
    ).order  # fmt: skip
    assert not coupon.has_room()
    failed = load_fixture(
        "checkout.session.async_payment_failed", event_id="evt_fail",
        session_id=order.stripe_checkout_session_id, order_number=order.number,
        email=order.email, amount=order.total, payment_status="unpaid",
    )  # fmt: skip

    post_event(client, failed)
    post_event(client, {**failed, "id": "evt_fail_again"})

    order.refresh_from_db()
    coupon.refresh_from_db()
    assert order.status == Order.Status.FAILED
    assert coupon.times_redeemed == 0
    assert coupon.has_room()


def test_a_coaching_package_creates_its_session_credits(client: Any, coaching_package: Any) -> None:
    order = start_order(coaching_package)

    post_event(client, session_completed(order))
    post_event(client, session_completed(order, event_id="evt_again"))

    grant = CreditGrant.objects.get()
    assert (grant.total, grant.used) == (3, 0)
    assert grant.expires_at is not None
    assert (grant.expires_at - order.created_at).days in (89, 90)


def test_an_event_that_fails_is_kept_for_the_sweep(client: Any, product: Any) -> None:
    from datetime import timedelta

    from store.tasks import sweep_store

    order = start_order(product)
    early_dispute = dispute(order)  # no payment intent known yet: cannot be matched
    post_event(client, early_dispute)
    event = StripeEvent.objects.get()
    assert event.processed_at is None
    assert event.attempts == 1

    post_event(client, session_completed(order))
    StripeEvent.objects.update(received_at=event.received_at - timedelta(minutes=5))
    sweep_store()

    event.refresh_from_db()
    assert event.processed_at is not None
    order.refresh_from_db()
    assert order.status == Order.Status.DISPUTED


def test_the_event_payload_is_stored_as_received(client: Any, product: Any) -> None:
    order = start_order(product)
    event = session_completed(order)
    post_event(client, event)
    assert StripeEvent.objects.get().payload == json.loads(json.dumps(event))


def test_a_coupon_is_redeemed_once_when_the_payment_succeeds_even_after_it_expired(
    client: Any, product: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from store.services import start_checkout
    from tests.store.factories import CouponFactory

    coupon = CouponFactory(code="LAUNCH", percent_off=10, max_redemptions=5)
    order = start_checkout(
        product=product, email="a@example.com", coupon_code="launch",
        success_url="http://testserver/s/", cancel_url="http://testserver/c/",
    ).order  # fmt: skip
    coupon.refresh_from_db()
    assert coupon.times_redeemed == 0
    # The coupon ends while the buyer is on Stripe's page: the discount they were
    # shown is honoured, and the use still counts.
    type(coupon).objects.filter(pk=coupon.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    post_event(client, session_completed(order))
    post_event(client, session_completed(order, event_id="evt_replayed"))

    coupon.refresh_from_db()
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert coupon.times_redeemed == 1
