"""Fulfilment checks that the session's payment is the order's: amount, currency, mode."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from coaching.models import OutboundEmail
from store.models import Entitlement, Order
from tests.store.conftest import post_event, session_completed, start_order

pytestmark = pytest.mark.django_db


def completed_with(order: Order, **session: Any) -> dict[str, Any]:
    event = session_completed(order)
    event["data"]["object"].update(session)
    return event


def test_a_matching_payment_fulfils(client: Any, product: Any) -> None:
    order = start_order(product)
    post_event(client, completed_with(order))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.held_at is None


@pytest.mark.parametrize(
    "session, reason",
    [
        ({"amount_total": 100}, "Stripe's session is for 100 (minor units), the order for 2900."),
        ({"currency": "usd"}, "Stripe's session is in usd, the order in gbp."),
        ({"livemode": True}, "Stripe's session is a live payment but the site's key is test."),
    ],
)
def test_a_payment_that_does_not_match_holds_the_order_and_tells_the_coach(
    client: Any, coach: Any, product: Any, session: dict[str, Any], reason: str
) -> None:
    order = start_order(product)

    post_event(client, completed_with(order, **session))

    order.refresh_from_db()
    assert order.status == Order.Status.HELD
    assert order.paid_at is None
    assert order.hold_reason == reason
    assert not Entitlement.objects.exists()
    assert OutboundEmail.objects.filter(template="store-order-held").count() == 1
    assert [message.to for message in mail.outbox] == [["coach@example.com"]]
    assert reason in mail.outbox[0].body


def test_a_test_payment_on_a_site_with_a_live_key_is_held(
    client: Any, settings: Any, product: Any
) -> None:
    order = start_order(product)
    settings.STRIPE_SECRET_KEY = "sk_live_configured"

    post_event(client, completed_with(order, livemode=False))

    order.refresh_from_db()
    assert order.status == Order.Status.HELD
    assert "test payment but the site's key is live" in order.hold_reason


def test_a_held_order_is_not_fulfilled_by_a_later_event(client: Any, product: Any) -> None:
    order = start_order(product)
    post_event(client, completed_with(order, amount_total=100))

    post_event(client, session_completed(order, event_id="evt_1later"))

    order.refresh_from_db()
    assert order.status == Order.Status.HELD
    assert not Entitlement.objects.exists()
    assert OutboundEmail.objects.filter(template="store-order-held").count() == 1


def test_holding_is_guarded_on_the_order_state(product: Any) -> None:
    order = start_order(product)
    assert order.hold("first") is True
    assert order.hold("second") is False
    order.refresh_from_db()
    assert order.hold_reason == "first"


def test_the_admin_shows_why_an_order_is_held(coach_client: Any, product: Any) -> None:
    order = start_order(product)
    order.hold("Stripe's session is in usd, the order in gbp.")

    listing = coach_client.get("/admin/store/order/").content.decode()
    page = coach_client.get(f"/admin/store/order/{order.pk}/change/").content.decode()

    for html in (listing, page):
        assert "Held" in html
        assert "Stripe&#x27;s session is in usd, the order in gbp." in html
