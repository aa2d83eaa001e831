"""Moving and cancelling each ask first: one click on a slot or a link changes nothing."""

from __future__ import annotations

from typing import Any

from bookings import services
from bookings.models import Booking
from bookings.tokens import manage_token
from tests.bookings.factories import london, next_weekday


def book(event_type: Any) -> Booking:
    return services.book_slot(
        event_type=event_type, start=london(next_weekday(days_ahead=5), 10), name="Casey",
        email="casey@example.com", time_zone="Europe/London", answers={"goal": "A plan"},
    )  # fmt: skip


def test_picking_a_new_time_shows_old_and_new_and_the_cost_without_moving(
    client: Any, event_type: Any
) -> None:
    booking = book(event_type)
    new = london(next_weekday(days_ahead=5), 14)
    page = client.get(f"/bookings/{manage_token(booking)}/reschedule/", {"start": new.isoformat()})
    html = page.content.decode()
    assert page.status_code == 200
    assert "10:00" in html and "14:00" in html
    assert "This uses 1 of your 2 changes." in html
    booking.refresh_from_db()
    assert booking.start == london(next_weekday(days_ahead=5), 10)
    assert booking.reschedule_count == 0 and booking.sequence == 0


def test_the_confirm_button_moves_the_call(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    new = london(next_weekday(days_ahead=5), 14)
    client.post(f"/bookings/{manage_token(booking)}/reschedule/", {"start": new.isoformat()})
    booking.refresh_from_db()
    assert booking.start == new and booking.reschedule_count == 1


def test_the_last_change_is_named_as_the_last(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    services.reschedule_booking(booking=booking, start=london(next_weekday(days_ahead=5), 11))
    page = client.get(
        f"/bookings/{manage_token(booking)}/reschedule/",
        {"start": london(next_weekday(days_ahead=5), 15).isoformat()},
    )
    assert "This uses your last change" in page.content.decode()


def test_the_manage_page_picks_times_by_link_to_the_confirm_step(
    client: Any, event_type: Any
) -> None:
    html = client.get(f"/bookings/{manage_token(book(event_type))}/").content.decode()
    assert '<form method="get" action="/bookings/' in html
    assert (
        'method="post" action="/bookings/'
        not in html.split('id="reschedule"')[1].split("bk-secondary")[0]
    )


def test_cancelling_is_a_secondary_link_to_its_own_confirm_step(
    client: Any, event_type: Any
) -> None:
    booking = book(event_type)
    token = manage_token(booking)
    manage = client.get(f"/bookings/{token}/").content.decode()
    assert f'href="/bookings/{token}/cancel/" data-cancel-link' in manage
    assert "<button" not in manage.split("bk-secondary")[1].split("</section>")[0]

    confirm = client.get(f"/bookings/{token}/cancel/").content.decode()
    assert "Yes, cancel the call" in confirm and "Keep my call" in confirm
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CONFIRMED

    client.post(f"/bookings/{token}/cancel/")
    booking.refresh_from_db()
    assert booking.status == Booking.Status.CANCELLED


def test_a_time_that_is_not_offered_never_reaches_the_confirm_step(
    client: Any, event_type: Any
) -> None:
    booking = book(event_type)
    sunday = london(next_weekday(days_ahead=5, weekday=6), 10)
    response = client.get(
        f"/bookings/{manage_token(booking)}/reschedule/", {"start": sunday.isoformat()}, follow=True
    )
    assert "Move the call</button>" not in response.content.decode()
    assert "not offered" in response.content.decode()
