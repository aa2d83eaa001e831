"""Package sessions: one credit per booking, in the booking's own transaction."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from bookings import services
from bookings.models import Booking, EventType
from bookings.tokens import manage_token
from store.models import CreditGrant, CreditLedger, Order, Product
from tests.bookings.factories import london, make_event_type, next_weekday
from tests.bookings.test_race import run_in_threads
from tests.store.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Any) -> Any:
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def package_type(coach: Any, coach_profile: Any) -> EventType:
    return make_event_type(
        coach,
        kind=EventType.Kind.PACKAGE,
        name="Coaching session",
        slug="coaching-session",
        intake_questions=[],
    )


def give_credits(user: Any, total: int = 3) -> CreditGrant:
    """A paid coaching package, as the store's fulfilment leaves it."""
    product = ProductFactory(kind=Product.Kind.COACHING, session_credits=total, price=45000)
    order = Order.objects.create(
        email=user.email, user=user, subtotal=45000, total=45000, paid_at=timezone.now()
    )
    return CreditGrant.objects.create(user=user, product=product, order=order, total=total)


def book_through_pages(client: Any, event_type: EventType, hour: int = 10) -> Any:
    start = london(next_weekday(5), hour)
    held = client.post(f"/book/{event_type.slug}/hold/", {"start": start.isoformat(), "tz": "UTC"})
    if "/details/" not in held.get("Location", ""):
        return held
    return client.post(
        held["Location"], {"name": "Casey", "email": "casey@example.com", "time_zone": "UTC"}
    )


def test_a_package_session_uses_one_credit_and_is_confirmed(
    client: Any, candidate: Any, package_type: EventType, commit: Any
) -> None:
    grant = give_credits(candidate)
    client.force_login(candidate)

    with commit():
        response = book_through_pages(client, package_type)

    booking = Booking.objects.get()
    assert response.status_code == 302 and response["Location"].endswith("/confirmed/")
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.credit_grant == grant and booking.user == candidate
    grant.refresh_from_db()
    assert (grant.used, grant.remaining) == (1, 2)
    ledger = CreditLedger.objects.get()
    assert (ledger.change, ledger.reference) == (-1, f"booking-{booking.pk}")
    assert [m.subject for m in mail.outbox if m.to == ["casey@example.com"]][0].startswith(
        "Booked: Coaching session"
    )
    page = client.get(response["Location"]).content.decode()
    assert "One session credit from your coaching package paid for this session" in page


def test_a_client_without_credits_is_told_and_pointed_to_the_packages(
    client: Any, candidate: Any, package_type: EventType
) -> None:
    client.force_login(candidate)

    page = client.get("/book/coaching-session/").content.decode()
    refused = book_through_pages(client, package_type)
    after = client.get(refused["Location"]).content.decode()

    assert "you have none left" in page and 'href="/store/"' in page
    assert "you have none left" in after
    assert not Booking.objects.exists()


def test_an_anonymous_visitor_is_asked_to_sign_in_first(
    client: Any, package_type: EventType
) -> None:
    page = client.get("/book/coaching-session/").content.decode()
    refused = book_through_pages(client, package_type)

    assert "Sign in</a> to use yours" in page and 'href="/store/"' in page
    assert "please sign in first" in client.get(refused["Location"]).content.decode()
    assert not Booking.objects.exists()


def test_the_credit_is_checked_again_when_the_booking_is_confirmed(
    client: Any, candidate: Any, package_type: EventType
) -> None:
    grant = give_credits(candidate, total=1)
    client.force_login(candidate)
    start = london(next_weekday(5), 10)
    held = client.post("/book/coaching-session/hold/", {"start": start.isoformat(), "tz": "UTC"})
    grant.use_one(reason="spent elsewhere")

    response = client.post(
        held["Location"], {"name": "Casey", "email": "casey@example.com", "time_zone": "UTC"}
    )

    assert response.status_code == 400
    assert "no session credits left" in response.content.decode()
    assert Booking.objects.get().status == Booking.Status.HELD
    grant.refresh_from_db()
    assert grant.used == 1


def confirmed_package_booking(candidate: Any, package_type: EventType) -> Booking:
    hold = services.hold_slot(
        event_type=package_type, start=london(next_weekday(5), 10), time_zone="UTC"
    )
    return services.complete_hold(
        booking=hold, name="Casey", email="casey@example.com", answers={}, time_zone="UTC",
        user=candidate,
    )  # fmt: skip


def test_cancelling_in_time_gives_the_credit_back(
    client: Any, candidate: Any, package_type: EventType, commit: Any
) -> None:
    grant = give_credits(candidate, total=1)
    booking = confirmed_package_booking(candidate, package_type)
    manage = client.get(f"/bookings/{manage_token(booking)}/").content.decode()
    assert "the session credit goes back to your package" in manage

    with commit():
        client.post(f"/bookings/{manage_token(booking)}/cancel/")

    booking.refresh_from_db()
    grant.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED and booking.credit_returned_at is not None
    assert grant.used == 0
    back = CreditLedger.objects.get(change=1)
    assert (back.reason, back.reference) == ("Cancelled in time", f"booking-{booking.pk}")
    cancelled = next(m for m in mail.outbox if m.subject.startswith("Cancelled"))
    assert "The session credit is back in your package." in cancelled.body
    # The credit can be used again, and only once.
    assert list(CreditGrant.objects.usable_by(candidate)) == [grant]


def test_a_late_cancellation_keeps_the_credit_used(
    candidate: Any, package_type: EventType, commit: Any
) -> None:
    grant = give_credits(candidate, total=2)
    booking = confirmed_package_booking(candidate, package_type)

    with time_machine.travel(booking.start - timedelta(hours=1), tick=False), commit():
        services.cancel_booking(booking=booking)

    booking.refresh_from_db()
    grant.refresh_from_db()
    assert booking.status == Booking.Status.LATE_CANCEL and booking.credit_returned_at is None
    assert grant.used == 1
    assert not CreditLedger.objects.filter(change=1).exists()
    cancelled = next(m for m in mail.outbox if m.subject.startswith("Cancelled"))
    assert "the session credit is used" in cancelled.body


def test_a_no_show_keeps_the_credit_used(candidate: Any, package_type: EventType) -> None:
    grant = give_credits(candidate, total=2)
    booking = confirmed_package_booking(candidate, package_type)

    booking.mark(Booking.Status.NO_SHOW)

    grant.refresh_from_db()
    assert grant.used == 1


def test_the_api_refuses_a_package_session_without_credits(
    client: Any, candidate: Any, package_type: EventType
) -> None:
    client.force_login(candidate)
    payload = {
        "event_type": "coaching-session", "start": london(next_weekday(5), 10).isoformat(),
        "name": "Casey", "email": "casey@example.com", "time_zone": "UTC",
    }  # fmt: skip

    refused = client.post("/api/bookings/", payload, content_type="application/json")
    give_credits(candidate, total=1)
    booked = client.post("/api/bookings/", payload, content_type="application/json")

    assert refused.status_code == 400
    assert refused.json()["store_url"] == "/store/"
    assert "no session credits left" in refused.json()["error"]
    assert booked.status_code == 201 and booked.json()["status"] == "confirmed"
    assert CreditGrant.objects.get().used == 1


@pytest.mark.django_db(transaction=True)
def test_two_bookings_racing_for_the_last_credit_make_one_booking(
    candidate: Any, package_type: EventType
) -> None:
    grant = give_credits(candidate, total=1)
    day = next_weekday(5)
    holds = [
        services.hold_slot(event_type=package_type, start=london(day, hour), time_zone="UTC")
        for hour in (10, 14)
    ]

    def complete(index: int) -> str:
        try:
            services.complete_hold(
                booking=holds[index], name="Casey", email="casey@example.com", answers={},
                time_zone="UTC", user=candidate,
            )  # fmt: skip
        except services.NoCredits:
            return "no credit"
        return "booked"

    results = run_in_threads(complete, count=2)

    assert Counter(results) == Counter({"booked": 1, "no credit": 1}), results
    assert Booking.objects.filter(status=Booking.Status.CONFIRMED).count() == 1
    grant.refresh_from_db()
    assert (grant.used, grant.remaining) == (1, 0)
    assert CreditLedger.objects.filter(change=-1).count() == 1
