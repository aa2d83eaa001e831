"""Done means: on a phone (390px), a visitor finds a workshop, sees the seats left,
books a seat and lands on their seat page with the shared link; no sideways scroll."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bookings import seats
from bookings.models import Seat
from tests.bookings.test_seats import make_session, make_workshop
from tests.conftest import screenshot
from tests.pagecheck import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_on_a_phone_books_a_seat_in_a_workshop(
    browser: Any, live_server: Any, coach: Any, coach_profile: Any
) -> None:
    workshop = make_workshop(coach, seats=6)
    session = make_session(workshop, hour=18)
    make_session(workshop, hour=18, days_ahead=12)
    seats.book_seat(session=session, name="Early Bird", email="early@example.com",
                    time_zone="UTC")  # fmt: skip
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, timezone_id="Europe/Berlin", is_mobile=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(f"{live_server.url}/workshops/")
    # bookings.js detected the visitor's zone and asked the server for it.
    page.wait_for_url(re.compile(r"tz=Europe%2FBerlin"))
    assert "5 seats left" in page.content()
    check_page(page)
    screenshot(page, "workshops-list-390")

    page.get_by_role("link", name="Book a seat").first.click()
    page.wait_for_url(re.compile(r"/workshops/negotiation-workshop/"))
    assert "5 of 6 seats left" in page.content()
    check_page(page)
    first = page.locator(".ws-session").first
    first.get_by_label("Your name").fill("Casey Candidate")
    first.get_by_label("Your email").fill("casey@example.com")
    screenshot(page, "workshop-detail-390")
    first.get_by_role("button", name="Book a seat").click()

    page.wait_for_url(re.compile(r"/workshops/seat/"))
    assert "Your seat is booked" in page.content()
    assert "https://meet.example.com/negotiation" in page.content()
    assert "(Europe/Berlin)" in page.content() or "Berlin" in page.content()
    check_page(page)
    screenshot(page, "workshop-seat-390")
    seat = Seat.objects.get(email="casey@example.com")
    assert seat.status == "confirmed" and seat.time_zone == "Europe/Berlin"
    session.refresh_from_db()
    assert session.seats_taken == 2
    assert errors == []
    context.close()
