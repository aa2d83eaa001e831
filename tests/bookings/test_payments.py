"""Paid sessions end to end through the store: checkout, confirmation, refunds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings import payments, services
from bookings.models import Booking, EventType
from bookings.tokens import manage_token
from store.models import Order, Product, Refund, StripeEvent
from tests.bookings.factories import london, make_event_type, next_weekday
from tests.store.conftest import post_event, session_completed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _simulated_stripe(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def paid_type(coach: Any, coach_profile: Any) -> EventType:
    return make_event_type(
        coach,
        kind=EventType.Kind.PAID,
        name="Strategy session",
        slug="strategy",
        price_amount=Decimal("150.00"),
        payment_window_minutes=30,
        intake_questions=[],
    )


def book_through_pages(client: Any, event_type: EventType, hour: int = 10) -> Any:
    """Pick a time, send the intake form: the response sends the visitor to pay."""
    start = london(next_weekday(5), hour)
    held = client.post(f"/book/{event_type.slug}/hold/", {"start": start.isoformat(), "tz": "UTC"})
    assert held.status_code == 302 and "/details/" in held["Location"]
    return client.post(
        held["Location"], {"name": "Casey", "email": "casey@example.com", "time_zone": "UTC"}
    )


def pending_booking(event_type: EventType, *, email: str = "casey@example.com") -> Booking:
    booking = services.book_slot(
        event_type=event_type, start=london(next_weekday(5), 10), name="Casey", email=email,
        time_zone="UTC",
    )  # fmt: skip
    payments.start_payment(booking=booking, success_url="http://testserver/", return_url="/")
    booking.refresh_from_db()
    return booking


def subjects(to: str) -> list[str]:
    return [message.subject for message in mail.outbox if message.to == [to]]


def test_booking_a_paid_session_holds_it_and_sends_the_visitor_to_the_checkout(
    client: Any, paid_type: EventType
) -> None:
    before = timezone.now()

    response = book_through_pages(client, paid_type)

    booking = Booking.objects.get()
    assert booking.status == Booking.Status.PENDING_PAYMENT
    assert booking.hold_expires_at is not None
    assert before + timedelta(minutes=29) < booking.hold_expires_at
    assert booking.hold_expires_at <= timezone.now() + timedelta(minutes=30)
    order = booking.order
    assert order is not None and order.total == 15000 and order.currency == "gbp"
    assert order.email == "casey@example.com" and order.paid_at is None
    assert order.items.get().product.kind == Product.Kind.SESSION
    assert not order.items.get().product.is_active  # never listed in the store
    assert response.status_code == 302
    assert response["Location"] == f"/store/checkout/simulated/{order.stripe_checkout_session_id}/"


def test_paying_through_the_simulated_checkout_confirms_the_booking(
    client: Any, paid_type: EventType, commit: Any
) -> None:
    checkout = book_through_pages(client, paid_type)["Location"]
    booking = Booking.objects.get()

    with commit():
        paid = client.post(checkout, {"action": "pay"})
    landing = client.get(paid["Location"])

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.payment_reference == booking.order.number
    assert booking.order.status == Order.Status.PAID
    assert paid["Location"].startswith(f"/bookings/{manage_token(booking)}/confirmed/?session_id=")
    assert "You're booked in" in landing.content.decode()
    sent = subjects("casey@example.com")
    assert len([s for s in sent if s.startswith("Booked")]) == 1
    assert sent.count(f"Your receipt for order {booking.order.number}") == 1


def test_cancelling_at_the_simulated_checkout_returns_to_the_booking(
    client: Any, paid_type: EventType
) -> None:
    checkout = book_through_pages(client, paid_type)["Location"]
    booking = Booking.objects.get()

    back = client.post(checkout, {"action": "cancel"})
    page = client.get(back["Location"])

    assert back["Location"] == f"/bookings/{manage_token(booking)}/confirmed/"
    assert "Your time is held until you pay" in page.content.decode()
    assert f"/bookings/{manage_token(booking)}/pay/" in page.content.decode()


def test_paying_again_from_the_booking_page_reuses_the_same_order(
    client: Any, paid_type: EventType
) -> None:
    first = book_through_pages(client, paid_type)["Location"]
    booking = Booking.objects.get()

    again = client.post(f"/bookings/{manage_token(booking)}/pay/")

    assert again["Location"] == first
    assert Order.objects.count() == 1


def test_a_completed_checkout_delivered_twice_confirms_the_booking_once(
    client: Any, paid_type: EventType
) -> None:
    booking = pending_booking(paid_type)
    order = booking.order
    assert order is not None

    first = post_event(client, session_completed(order))
    duplicate = post_event(client, session_completed(order))
    other_id = post_event(client, session_completed(order, event_id="evt_1other"))

    assert (first.status_code, duplicate.status_code, other_id.status_code) == (200, 200, 200)
    assert duplicate.json() == {"status": "duplicate"}
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert StripeEvent.objects.count() == 2
    confirmations = [s for s in subjects("casey@example.com") if s.startswith("Booked")]
    assert len(confirmations) == 1
    assert len([s for s in subjects("casey@example.com") if "receipt" in s.lower()]) == 1
    assert len(subjects("coach@example.com")) == 1


def test_a_payment_after_the_hold_expired_and_the_time_was_taken_is_refunded(
    client: Any, paid_type: EventType
) -> None:
    booking = pending_booking(paid_type)
    order = booking.order
    assert order is not None
    later = timezone.now() + timedelta(minutes=paid_type.payment_window_minutes + 1)
    with time_machine.travel(later, tick=False):
        other = services.book_slot(
            event_type=paid_type, start=booking.start, name="Other", email="other@example.com",
            time_zone="UTC",
        )  # fmt: skip

        post_event(client, session_completed(order))

    booking.refresh_from_db()
    order.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert Booking.objects.get(pk=other.pk).status == Booking.Status.PENDING_PAYMENT
    assert order.paid_at is not None
    assert order.status == Order.Status.REFUNDED and order.amount_refunded == 15000
    assert Refund.objects.get(order=order).amount == 15000
    sent = subjects("casey@example.com")
    assert "Refunded: Strategy session, the time was taken" in sent
    assert not [s for s in sent if s.startswith("Booked")]
    # A second delivery, or the sweep, never refunds twice.
    assert payments.refund_booking_payment(booking_id=booking.pk) == "already refunded"
    assert payments.refund_stranded_payments() == 0
    assert Refund.objects.count() == 1


def test_a_late_payment_for_a_time_still_free_confirms_it(
    client: Any, paid_type: EventType
) -> None:
    booking = pending_booking(paid_type)
    assert booking.order is not None
    later = timezone.now() + timedelta(minutes=paid_type.payment_window_minutes + 5)
    with time_machine.travel(later, tick=False):
        services.expire_holds()
        post_event(client, session_completed(booking.order))

    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    assert not Refund.objects.exists()


def test_an_unpaid_hold_expires_and_frees_the_time(paid_type: EventType) -> None:
    booking = pending_booking(paid_type)
    later = timezone.now() + timedelta(minutes=paid_type.payment_window_minutes + 1)

    with time_machine.travel(later, tick=False):
        assert services.expire_holds() == 1
        other = services.book_slot(
            event_type=paid_type, start=booking.start, name="Other", email="other@example.com",
            time_zone="UTC",
        )  # fmt: skip

    booking.refresh_from_db()
    assert booking.status == Booking.Status.EXPIRED
    assert other.status == Booking.Status.PENDING_PAYMENT


def paid_booking(client: Any, paid_type: EventType) -> Booking:
    booking = pending_booking(paid_type)
    assert booking.order is not None
    post_event(client, session_completed(booking.order))
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED
    return booking


def test_cancelling_a_paid_session_in_time_refunds_it_in_full(
    client: Any, paid_type: EventType, commit: Any
) -> None:
    booking = paid_booking(client, paid_type)
    confirm_step = client.get(f"/bookings/{manage_token(booking)}/cancel/").content.decode()
    assert "is refunded in full" in confirm_step
    mail.outbox.clear()

    with commit():
        client.post(f"/bookings/{manage_token(booking)}/cancel/")

    booking.refresh_from_db()
    order = Order.objects.get(pk=booking.order_id)
    assert booking.status == Booking.Status.CANCELLED
    assert order.status == Order.Status.REFUNDED and order.amount_refunded == 15000
    sent = subjects("casey@example.com")
    assert any(s.startswith("Cancelled") for s in sent)
    assert "Refunded: Strategy session" in sent
    cancelled = next(m for m in mail.outbox if m.subject.startswith("Cancelled"))
    assert "refunded in full" in cancelled.body


def test_cancelling_a_paid_session_late_does_not_refund_it(
    client: Any, paid_type: EventType, commit: Any
) -> None:
    booking = paid_booking(client, paid_type)
    mail.outbox.clear()
    late = booking.start - timedelta(hours=2)

    with time_machine.travel(late, tick=False):
        manage = client.get(f"/bookings/{manage_token(booking)}/").content.decode()
        with commit():
            services.cancel_booking(booking=booking)

    assert "the payment is not refunded" in manage
    booking.refresh_from_db()
    assert booking.status == Booking.Status.LATE_CANCEL
    assert Order.objects.get(pk=booking.order_id).amount_refunded == 0
    assert not Refund.objects.exists()
    cancelled = next(m for m in mail.outbox if m.subject.startswith("Cancelled"))
    assert "the payment is not refunded" in cancelled.body
    assert payments.refund_stranded_payments() == 0


def test_the_confirmation_email_states_the_refund_policy(client: Any, paid_type: EventType) -> None:
    paid_booking(client, paid_type)

    confirmation = next(m for m in mail.outbox if m.subject.startswith("Booked"))
    assert "for a full refund" in confirmation.body
    assert "not refunded" in confirmation.body
