"""The booking pages without JavaScript, the manage link, the feed and the admin."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from icalendar import Calendar

from bookings import services
from bookings.models import Booking
from bookings.tokens import feed_key, manage_token
from tests.bookings.factories import london, make_event_type, next_weekday

pytestmark = pytest.mark.django_db


def book(event_type: Any, hour: int = 10) -> Booking:
    return services.book_slot(
        event_type=event_type, start=london(next_weekday(5), hour), name="Casey",
        email="casey@example.com", time_zone="America/New_York", answers={"goal": "A plan"},
    )  # fmt: skip


def test_the_list_shows_the_event_types(client: Any, event_type: Any) -> None:
    response = client.get("/book/")
    assert response.status_code == 200
    assert b"Discovery call" in response.content and b"/book/discovery-call/" in response.content


def test_a_paid_session_shows_its_price_as_the_store_does(
    client: Any, coach: Any, coach_profile: Any
) -> None:
    make_event_type(
        coach, slug="strategy-session", name="Strategy session", kind="paid",
        price_amount=Decimal("150.00"), currency="GBP",
    )  # fmt: skip
    for url in ["/book/", "/book/strategy-session/"]:
        html = client.get(url).content.decode()
        assert "£150.00" in html, url
        assert "GBP 150.00" not in html, url


def test_the_month_view_lists_times_in_the_visitors_zone_without_js(
    client: Any, event_type: Any
) -> None:
    day = next_weekday()
    response = client.get(
        "/book/discovery-call/", {"tz": "America/New_York", "month": f"{day:%Y-%m}",
                                  "day": day.isoformat()}
    )  # fmt: skip
    html = response.content.decode()
    assert response.status_code == 200
    # 09:00 London is 4:00 or 5:00 AM in New York depending on the season.
    assert re.search(r'class="bk-time" type="submit">[45]:00 AM<', html)
    assert 'id="bk-tz" name="tz" type="text" list="bk-tz-list" value="America/New_York"' in html


def test_an_unknown_zone_falls_back_to_the_coachs(client: Any, event_type: Any) -> None:
    response = client.get("/book/discovery-call/", {"tz": "Nowhere/Land", "month": "bad"})
    assert response.status_code == 200
    assert 'list="bk-tz-list" value="Europe/London"' in response.content.decode()


def test_holding_then_filling_the_intake_confirms_the_call(
    client: Any, event_type: Any, django_capture_on_commit_callbacks: Any
) -> None:
    start = london(next_weekday(), 11)
    response = client.post(
        "/book/discovery-call/hold/", {"start": start.isoformat(), "tz": "Asia/Tokyo"}
    )
    assert response.status_code == 302 and "/details/" in response["Location"]
    held = Booking.objects.get()
    assert held.status == "held" and held.hold_expires_at is not None
    details_url = response["Location"]
    page = client.get(details_url)
    assert b"for the coach" in page.content
    invalid = client.post(details_url, {"name": "Casey", "email": "bad", "time_zone": "Asia/Tokyo"})
    assert invalid.status_code == 400 and b"Casey" in invalid.content
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            details_url,
            {"name": "Casey", "email": "casey@example.com", "time_zone": "Asia/Tokyo",
             "q_goal": "A plan", "q_linkedin": "linkedin.com/in/casey", "q_stage": "Interviewing"},
        )  # fmt: skip
    assert done.status_code == 302 and done["Location"].endswith("/confirmed/")
    held.refresh_from_db()
    assert held.status == "confirmed"
    assert held.answers["linkedin"] == "https://linkedin.com/in/casey"
    confirmed = client.get(done["Location"])
    assert b"calendar.google.com" in confirmed.content and b"invite.ics" in confirmed.content
    assert b"(Asia/Tokyo)" in confirmed.content and b"(Europe/London)" in confirmed.content
    assert any(m.to == ["casey@example.com"] for m in mail.outbox)


def test_a_second_hold_on_the_same_time_is_refused(client: Any, event_type: Any) -> None:
    start = london(next_weekday(), 11).isoformat()
    client.post("/book/discovery-call/hold/", {"start": start, "tz": "UTC"})
    response = client.post("/book/discovery-call/hold/", {"start": start, "tz": "UTC"}, follow=True)
    assert b"just taken" in response.content
    assert Booking.objects.count() == 1


def test_a_hold_outside_availability_is_refused(client: Any, event_type: Any) -> None:
    start = london(next_weekday(), 20).isoformat()
    response = client.post("/book/discovery-call/hold/", {"start": start}, follow=True)
    assert b"not offered" in response.content and not Booking.objects.exists()


def test_the_manage_page_says_what_the_policy_allows(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    response = client.get(f"/bookings/{manage_token(booking)}/")
    html = response.content.decode()
    assert "2 changes left" in html and "Cancel free of charge until" in html


def test_a_tampered_token_finds_nothing(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    token = manage_token(booking)
    assert client.get(f"/bookings/{token[:-2]}xx/").status_code == 404
    assert client.get("/bookings/nonsense/").status_code == 404


def test_rescheduling_from_the_manage_page(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    token = manage_token(booking)
    new_start = booking.start + timedelta(hours=2)
    response = client.post(f"/bookings/{token}/reschedule/", {"start": new_start.isoformat()})
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.start == new_start and booking.sequence == 1


def test_the_server_refuses_a_reschedule_the_policy_forbids(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    Booking.objects.filter(pk=booking.pk).update(reschedule_count=2)
    token = manage_token(booking)
    response = client.post(
        f"/bookings/{token}/reschedule/",
        {"start": (booking.start + timedelta(hours=2)).isoformat()},
        follow=True,
    )
    assert b"as many times as the policy allows" in response.content
    booking.refresh_from_db()
    assert booking.reschedule_count == 2 and booking.sequence == 0


def test_cancelling_from_the_manage_page(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    client.post(f"/bookings/{manage_token(booking)}/cancel/")
    booking.refresh_from_db()
    assert booking.status == "cancelled"


def test_the_ics_download_parses(client: Any, event_type: Any) -> None:
    booking = book(event_type)
    response = client.get(f"/bookings/{manage_token(booking)}/invite.ics")
    event = next(iter(Calendar.from_ical(response.content).walk("VEVENT")))
    assert str(event["uid"]) == booking.ics_uid
    assert event.decoded("dtstart") == booking.start.astimezone(UTC)


def test_the_coachs_private_feed_needs_the_secret(client: Any, event_type: Any, coach: Any) -> None:
    booking = book(event_type)
    assert client.get("/bookings/calendar/1-forged.ics").status_code == 404
    response = client.get(f"/bookings/calendar/{feed_key(coach.pk)}.ics")
    assert response.status_code == 200
    uids = [str(e["uid"]) for e in Calendar.from_ical(response.content).walk("VEVENT")]
    assert uids == [booking.ics_uid]


def test_the_waitlist_form_adds_an_entry(client: Any, event_type: Any) -> None:
    response = client.post(
        "/book/discovery-call/waitlist/",
        {"name": "Wendy", "email": "wendy@example.com", "time_zone": "Asia/Tokyo"},
    )
    assert response.status_code == 302
    assert event_type.waitlist.get().email == "wendy@example.com"
    bad = client.post("/book/discovery-call/waitlist/", {"name": "W", "email": "x"})
    assert bad.status_code == 400


def test_the_admin_calendar_shows_upcoming_bookings(coach_client: Any, event_type: Any) -> None:
    booking = book(event_type)
    response = coach_client.get(
        "/admin/bookings/booking/calendar/", {"date": booking.start.date().isoformat()}
    )
    assert response.status_code == 200
    assert b"Casey" in response.content and b"/bookings/calendar/" in response.content
    month = coach_client.get("/admin/bookings/booking/calendar/", {"view": "month"})
    assert month.status_code == 200


def test_the_admin_marks_a_no_show(coach_client: Any, event_type: Any) -> None:
    booking = book(event_type)
    response = coach_client.post(
        "/admin/bookings/booking/",
        {"action": "mark_no_show", "_selected_action": [booking.pk]},
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "no_show"


def test_the_admin_pages_render(coach_client: Any, event_type: Any) -> None:
    book(event_type)
    for url in ["/admin/bookings/booking/", "/admin/bookings/eventtype/",
                f"/admin/bookings/eventtype/{event_type.pk}/change/",
                "/admin/bookings/booking/?status__exact=confirmed",
                "/admin/bookings/busycalendar/", "/admin/bookings/busycalendar/add/"]:  # fmt: skip
        assert coach_client.get(url).status_code == 200, url


def test_the_intake_leaves_the_name_empty_for_a_signed_in_person_without_one(
    client: Any, event_type: Any, stranger: Any
) -> None:
    stranger.name = ""
    stranger.save(update_fields=["name"])
    client.force_login(stranger)
    response = client.post(
        "/book/discovery-call/hold/",
        {"start": london(next_weekday(), 11).isoformat(), "tz": "Europe/London"},
    )
    html = client.get(response["Location"]).content.decode()
    name_input = html.split('name="name"', 1)[1].split(">", 1)[0]
    assert "stranger@example.com" not in name_input
    assert 'value="stranger@example.com"' in html  # the email field keeps it
