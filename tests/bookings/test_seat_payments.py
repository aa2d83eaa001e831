"""Paid workshop seats: a seat cancelled in time gets its share of the order back once;
a payment that arrives after the seat's hold ran out is refunded, never kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from bookings import payments, seats
from bookings.models import Seat
from store.models import Refund
from tests.bookings.test_seats import make_session, make_workshop

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _simulated_stripe(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""


@pytest.fixture
def paid_workshop(coach: Any, coach_profile: Any) -> Any:
    return make_workshop(coach, kind="paid", price_amount=Decimal("40.00"), seats=2)


def pay_for_a_seat(
    client: Client, session: Any, commit: Any, email: str = "pat@example.com"
) -> Seat:
    response = client.post(
        "/workshops/negotiation-workshop/book/",
        {"session": session.pk, "name": "Pat", "email": email, "time_zone": "UTC"},
    )
    with commit(execute=True):
        client.post(response["Location"], {"action": "pay"})
    return Seat.objects.get(email=email)


def test_a_paid_seat_cancelled_in_time_is_refunded_once(
    client: Client, paid_workshop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = make_session(paid_workshop, days_ahead=10)
    seat = pay_for_a_seat(client, session, django_capture_on_commit_callbacks)
    assert seat.status == "confirmed"
    assert seat.order is not None and seat.order.paid_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        seats.cancel_seat(seat=seat)
    refund = Refund.objects.get(order=seat.order)
    assert refund.amount == 4000
    assert payments.refund_seat_payment(seat_id=seat.pk) == "already refunded"
    assert payments.refund_stranded_payments() == 0
    assert Refund.objects.count() == 1
    assert any(m.subject.startswith("Refunded") for m in mail.outbox if m.to == [seat.email])


def test_a_paid_seat_cancelled_late_keeps_its_payment(
    client: Client, paid_workshop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = make_session(paid_workshop, days_ahead=10)
    seat = pay_for_a_seat(client, session, django_capture_on_commit_callbacks)
    late = session.start - timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        seats.cancel_seat(seat=seat, now=late)
    assert Seat.objects.get(pk=seat.pk).status == "late_cancel"
    assert not Refund.objects.exists()


def test_a_payment_after_the_hold_ran_out_is_refunded_not_kept(
    client: Client, paid_workshop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = make_session(paid_workshop, days_ahead=10)
    response = client.post(
        "/workshops/negotiation-workshop/book/",
        {"session": session.pk, "name": "Pat", "email": "pat@example.com", "time_zone": "UTC"},
    )
    seat = Seat.objects.get()
    assert seat.hold_expires_at is not None
    seats.expire_seat_holds(now=seat.hold_expires_at + timedelta(seconds=1))
    session.refresh_from_db()
    assert session.seats_taken == 0  # the place went back to the others
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"], {"action": "pay"})
    seat.refresh_from_db()
    assert seat.status == "expired" and seat.refund is not None
    assert seat.refund.amount == 4000


def test_a_paid_seat_freed_for_the_waitlist_is_claimed_by_paying_for_it(
    client: Client, paid_workshop: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from bookings.tokens import seat_token

    session = make_session(paid_workshop, days_ahead=10, capacity=1)
    first = pay_for_a_seat(client, session, django_capture_on_commit_callbacks)
    seats.join_seat_waitlist(session=session, name="Wren", email="wren@example.com",
                             time_zone="UTC")  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        seats.cancel_seat(seat=first)
    held = Seat.objects.get(email="wren@example.com")
    assert held.status == "held"
    token = seat_token(held)
    assert "Take the seat and pay" in client.get(f"/workshops/seat/{token}/").content.decode()

    claimed = client.post(f"/workshops/seat/{token}/claim/")
    assert claimed["Location"].startswith("/store/checkout/simulated/")
    # A reload of the pay button reuses the same open checkout: one order per seat.
    again = client.post(f"/workshops/seat/{token}/pay/")
    assert again["Location"] == claimed["Location"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(claimed["Location"], {"action": "pay"})
    held.refresh_from_db()
    assert held.status == "confirmed"
    session.refresh_from_db()
    assert session.seats_taken == 1
