"""Done means: a visitor in New York books a call with a London coach, gets the
invitation, moves the call from the manage link, and the coach sees it in the admin."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from icalendar import Calendar

from bookings.models import Booking
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def manage_path(body: str) -> str:
    match = re.search(r"(/bookings/[^/\s]+/)", body)
    assert match, body
    return match.group(1)


def test_a_visitor_in_another_zone_books_moves_and_the_coach_sees_it(
    browser: Any, live_server: Any, coach: Any, event_type: Any
) -> None:
    # Far enough ahead that the policy still allows moving the call.
    event_type.minimum_notice_minutes = 3 * 24 * 60
    event_type.save()
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="America/New_York"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )

    page.goto(f"{live_server.url}/book/")
    page.get_by_role("link", name="Discovery call").first.click()
    # bookings.js detected the visitor's zone and asked the server for it.
    page.wait_for_url(re.compile(r"tz=America%2FNew_York"))
    assert page.locator("#bk-tz").input_value() == "America/New_York"
    screenshot(page, "bookings-month-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "bookings-month-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Keyboard only: focus the first time and press Enter.
    first_time = page.locator(".bk-time").first
    label = first_time.inner_text()
    first_time.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/details/"))
    assert "for the coach" in page.content()
    page.get_by_label("Your name").fill("Casey Candidate")
    page.get_by_label("Your email").fill("casey@example.com")
    page.get_by_label("What do you want from the call?").fill("Move into ML engineering")
    screenshot(page, "bookings-details-1280")
    page.get_by_role("button", name="Confirm the call").click()
    page.wait_for_url(re.compile(r"/confirmed/"))
    assert "You're booked in" in page.content()
    assert label in page.content() and "(America/New_York)" in page.content()
    screenshot(page, "bookings-confirmed-1280")

    booking = Booking.objects.get()
    assert booking.status == "confirmed" and booking.time_zone == "America/New_York"
    invitation = next(m for m in mail.outbox if m.to == ["casey@example.com"])
    calendar = Calendar.from_ical(invitation.attachments[0][1])
    assert str(calendar["method"]) == "REQUEST"
    assert "(America/New_York)" in invitation.body and "(Europe/London)" in invitation.body

    # The manage link from the email (SITE_URL points elsewhere in tests: keep the path).
    assert manage_path(invitation.body).startswith("/bookings/")
    page.goto(live_server.url + manage_path(invitation.body))
    assert "2 changes left" in page.content()
    screenshot(page, "bookings-manage-1280")
    old_start = booking.start
    # The booked day may have only a time or two left at this hour: a full day follows it.
    page.locator("a.bk-day:not(.is-chosen)").first.click()
    page.locator(".bk-time").nth(2).click()
    # A slot only opens the confirm step: old time, new time, and what it costs.
    page.wait_for_url(re.compile(r"/reschedule/\?"))
    assert "This uses 1 of your 2 changes." in page.content()
    assert " AM " in page.locator("[data-new-time]").inner_text() or " PM " in (
        page.locator("[data-new-time]").inner_text()
    )
    screenshot(page, "bookings-reschedule-confirm-1280")
    booking.refresh_from_db()
    assert booking.start == old_start and booking.reschedule_count == 0
    page.get_by_role("button", name="Move the call").click()
    page.wait_for_load_state()
    assert "Your call has moved" in page.content()
    booking.refresh_from_db()
    assert booking.sequence == 1 and booking.reschedule_count == 1
    moved = [m for m in mail.outbox if m.to == ["casey@example.com"]][-1]
    assert moved.subject.startswith("Moved")
    event = next(iter(Calendar.from_ical(moved.attachments[0][1]).walk("VEVENT")))
    assert str(event["uid"]) == booking.ics_uid and int(event["sequence"]) == 1

    # The coach, signed in (past MFA), sees the moved call in the admin calendar.
    client = Client()
    client.force_login(coach)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )
    day = booking.start.astimezone(booking.start.tzinfo).date().isoformat()
    page.goto(f"{live_server.url}/admin/bookings/booking/calendar/?date={day}")
    assert "Casey Candidate" in page.content()
    screenshot(page, "bookings-admin-calendar-1280")
    assert errors == []
    context.close()
