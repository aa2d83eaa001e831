"""The workshop pages: the seats left, booking a free seat, a full date's waitlist,
and the attendee's own page (cancel, move)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from bookings import seats
from bookings.models import Seat, WaitlistEntry
from bookings.tokens import seat_token
from tests.bookings.test_seats import make_session, make_workshop

pytestmark = pytest.mark.django_db


def test_the_workshop_list_shows_upcoming_dates_with_the_seats_left(
    client: Client, coach: Any, coach_profile: Any
) -> None:
    session = make_session(make_workshop(coach, seats=3))
    seats.book_seat(session=session, name="A", email="a@example.com", time_zone="UTC")
    page = client.get("/workshops/").content.decode()
    assert "Salary negotiation workshop" in page and "2 seats left" in page
    # Workshops are not one-to-one calls: /book/ does not offer them.
    assert "Salary negotiation workshop" not in client.get("/book/").content.decode()


def test_a_visitor_books_a_free_seat_and_lands_on_their_seat_page(
    client: Client, coach: Any, coach_profile: Any
) -> None:
    session = make_session(make_workshop(coach))
    response = client.post(
        "/workshops/negotiation-workshop/book/",
        {"session": session.pk, "name": "Casey", "email": "casey@example.com",
         "time_zone": "America/New_York"},
    )  # fmt: skip
    seat = Seat.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(
        f"/workshops/seat/{seat_token(seat)}/"
    )
    assert seat.status == "confirmed" and seat.time_zone == "America/New_York"
    page = client.get(response["Location"]).content.decode()
    assert "https://meet.example.com/negotiation" in page and "Cancel my seat" in page


def test_booking_twice_or_a_full_date_is_a_form_error_not_a_500(
    client: Client, coach: Any, coach_profile: Any
) -> None:
    session = make_session(make_workshop(coach), capacity=1)
    form = {"session": session.pk, "name": "C", "email": "c@example.com", "time_zone": "UTC"}
    client.post("/workshops/negotiation-workshop/book/", form)
    again = client.post("/workshops/negotiation-workshop/book/", form)
    assert again.status_code == 409 and "full" in again.content.decode()
    bad = client.post("/workshops/negotiation-workshop/book/", {**form, "email": "nope"})
    assert bad.status_code == 400
    client.post("/workshops/negotiation-workshop/waitlist/", {**form, "email": "w@example.com"})
    assert WaitlistEntry.objects.get().group_session == session
    page = client.get("/workshops/negotiation-workshop/").content.decode()
    assert "Tell me if a seat opens" in page


def test_the_attendee_moves_then_cancels_from_their_seat_page(
    client: Client, coach: Any, coach_profile: Any
) -> None:
    workshop = make_workshop(coach)
    first = make_session(workshop, days_ahead=5)
    second = make_session(workshop, days_ahead=12)
    (seat,) = seats.book_seat(session=first, name="A", email="a@example.com", time_zone="UTC")
    token = seat_token(seat)
    client.post(f"/workshops/seat/{token}/move/", {"session": second.pk})
    seat.refresh_from_db()
    assert seat.session == second
    client.post(f"/workshops/seat/{token}/cancel/")
    seat.refresh_from_db()
    assert seat.status == "cancelled"
    assert client.get("/workshops/seat/not-a-token/").status_code == 404


def test_the_coach_sees_the_attendees_schedules_a_date_and_emails_everyone(
    coach_client: Client, coach: Any, coach_profile: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    from bookings.models import GroupSession
    from tests.bookings.factories import london, next_weekday

    workshop = make_workshop(coach)
    session = make_session(workshop)
    seats.book_seat(session=session, name="Ana Attendee", email="ana@example.com", time_zone="UTC")
    page = coach_client.get(f"/admin/bookings/groupsession/{session.pk}/change/")
    assert page.status_code == 200
    assert "Ana Attendee" in page.content.decode()
    assert "Email all attendees" in page.content.decode()

    start = london(next_weekday(20), 10)
    added = coach_client.post(
        "/admin/bookings/groupsession/add/",
        {"event_type": workshop.pk, "start_0": start.date().isoformat(), "start_1": "10:00",
         "capacity": "", "meeting_url": "", "seats-TOTAL_FORMS": "0",
         "seats-INITIAL_FORMS": "0"},
    )  # fmt: skip
    assert added.status_code == 302, added.content.decode()[:2000]
    made = GroupSession.objects.get(start=start)
    assert made.capacity == 8 and made.time_block is not None

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = coach_client.post(
            f"/admin/bookings/groupsession/{session.pk}/email/",
            {"subject": "Reading before Tuesday", "message": "Bring one offer letter."},
        )
    assert sent.status_code == 302
    assert [m.to for m in mail.outbox] == [["ana@example.com"]]
    assert "Bring one offer letter." in mail.outbox[0].body


def test_a_paid_seat_goes_through_the_stores_checkout_and_is_confirmed_by_the_payment(
    client: Client, coach: Any, coach_profile: Any, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    from decimal import Decimal

    from django.core import mail

    settings.STRIPE_SECRET_KEY = ""  # the store's simulated checkout
    workshop = make_workshop(coach, kind="paid", price_amount=Decimal("40.00"))
    session = make_session(workshop)
    response = client.post(
        "/workshops/negotiation-workshop/book/",
        {"session": session.pk, "name": "Pat", "email": "pat@example.com", "time_zone": "UTC"},
    )
    seat = Seat.objects.get()
    assert seat.status == "pending_payment" and seat.order is not None
    assert response["Location"].startswith("/store/checkout/simulated/")
    session.refresh_from_db()
    assert session.seats_taken == 1  # the seat is kept while the buyer pays

    with django_capture_on_commit_callbacks(execute=True):
        paid = client.post(response["Location"], {"action": "pay"})
    assert paid["Location"].startswith(f"/workshops/seat/{seat_token(seat)}/")
    seat.refresh_from_db()
    assert seat.status == "confirmed"
    assert [m.subject for m in mail.outbox if m.subject.startswith("Your seat")]


def test_a_date_that_clashes_with_a_call_is_refused_in_the_admin_without_a_500(
    coach_client: Client, coach: Any, coach_profile: Any, monkeypatch: Any
) -> None:
    from bookings.models import GroupSession
    from bookings.services import book_slot
    from tests.bookings.factories import london, make_event_type, next_weekday

    workshop = make_workshop(coach)
    call = make_event_type(coach, minimum_notice_minutes=0)
    day = next_weekday(6)
    book_slot(event_type=call, start=london(day, 10), name="C", email="c@example.com",
              time_zone="UTC")  # fmt: skip
    form = {"event_type": workshop.pk, "start_0": day.isoformat(), "start_1": "09:30",
            "capacity": "", "meeting_url": "", "seats-TOTAL_FORMS": "0",
            "seats-INITIAL_FORMS": "0"}  # fmt: skip
    page = coach_client.post("/admin/bookings/groupsession/add/", form)
    assert page.status_code == 200 and "already have a booking" in page.content.decode()
    # The race behind the form's check: the constraint refuses, the admin says so.
    from bookings.group_admin import GroupSessionForm

    monkeypatch.setattr(GroupSessionForm, "clean", lambda form: form.cleaned_data)
    raced = coach_client.post("/admin/bookings/groupsession/add/", form)
    assert raced.status_code == 302
    assert not GroupSession.objects.exists()
