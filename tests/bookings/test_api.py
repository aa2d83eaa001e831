"""The JSON API: slots in any zone, bookings, 400 for bad input, 409 for a taken slot."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from django.core import mail

from bookings.models import Booking
from tests.bookings.factories import london, next_weekday

pytestmark = pytest.mark.django_db


def slots(client: Any, **params: Any) -> Any:
    return client.get("/api/slots/", params)


def post_booking(client: Any, start: Any, **extra: Any) -> Any:
    body = {
        "event_type": "discovery-call",
        "start": start.astimezone(UTC).isoformat(),
        "name": "Casey Candidate",
        "email": "casey@example.com",
        "time_zone": "America/New_York",
        "answers": {"goal": "Move into ML engineering"},
        **extra,
    }
    return client.post("/api/bookings/", body, content_type="application/json")


def test_it_lists_a_days_slots_in_the_visitors_zone(client: Any, event_type: Any) -> None:
    day = next_weekday()
    response = slots(client, event_type="discovery-call", start=day, end=day, tz="Asia/Tokyo")
    assert response.status_code == 200
    body = response.json()
    # 09:00-17:00 London is 16 half hours; Tokyo sees them split over two of its dates.
    starts = [slot["start"] for d in body["days"] for slot in d["slots"]]
    assert body["time_zone"] == "Asia/Tokyo"
    assert body["coach_time_zone"] == "Europe/London"
    assert len(starts) >= 1
    assert all(s.endswith("Z") for s in starts)


def test_it_offers_sixteen_slots_a_weekday_in_the_coachs_zone(client: Any, event_type: Any) -> None:
    day = next_weekday()
    response = slots(client, event_type="discovery-call", start=day, end=day, tz="Europe/London")
    times = [s["local_time"] for s in response.json()["days"][0]["slots"]]
    assert times[0] == "09:00" and times[-1] == "16:30" and len(times) == 16


def test_it_answers_sixty_days_in_one_request(client: Any, event_type: Any) -> None:
    day = next_weekday()
    response = slots(
        client, event_type="discovery-call", start=day, end=day + timedelta(days=59), tz="UTC"
    )
    assert response.status_code == 200
    assert response.json()["count"] > 16 * 30


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tz": "Mars/Olympus_Mons"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"end": "2031-12-31"}, "end"),
        ({"start": "not-a-date"}, "start"),
    ],
)
def test_it_rejects_bad_slot_queries_with_a_json_400(
    client: Any, event_type: Any, params: dict[str, str], field: str
) -> None:
    query = {"event_type": "discovery-call", "start": "2031-01-01", "end": "2031-01-10"}
    query["tz"] = "UTC"
    query.update(params)
    response = slots(client, **query)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert response.json()["error"]


def test_it_answers_404_for_an_unknown_event_type(client: Any, event_type: Any) -> None:
    response = slots(client, event_type="nope", start="2031-01-01", end="2031-01-02", tz="UTC")
    assert response.status_code == 404


def test_it_books_an_offered_slot_and_sends_the_invitation(
    client: Any, event_type: Any, django_capture_on_commit_callbacks: Any
) -> None:
    start = london(next_weekday(), 10)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_booking(client, start)
    assert response.status_code == 201, response.json()
    booking = Booking.objects.get()
    assert booking.status == Booking.Status.CONFIRMED
    assert booking.start == start
    assert booking.answers == {"goal": "Move into ML engineering"}
    assert response.json()["manage_url"].endswith("/")
    recipients = sorted(m.to[0] for m in mail.outbox)
    assert recipients == ["casey@example.com", "coach@example.com"]


def test_it_rejects_a_taken_slot(client: Any, event_type: Any) -> None:
    start = london(next_weekday(), 11)
    assert post_booking(client, start).status_code == 201
    response = post_booking(client, start, email="other@example.com")
    assert response.status_code == 409
    assert "taken" in response.json()["error"]
    assert Booking.objects.count() == 1


def test_it_rejects_a_slot_outside_availability(client: Any, event_type: Any) -> None:
    response = post_booking(client, london(next_weekday(), 18))
    assert response.status_code == 400
    assert "start" in response.json()["fields"]
    assert not Booking.objects.exists()


def test_it_rejects_a_start_off_the_grid(client: Any, event_type: Any) -> None:
    response = post_booking(client, london(next_weekday(), 10, 10))
    assert response.status_code == 400


def test_it_rejects_an_unknown_zone_on_booking(client: Any, event_type: Any) -> None:
    response = post_booking(client, london(next_weekday(), 10), time_zone="Nowhere/Land")
    assert response.status_code == 400
    assert "time_zone" in response.json()["fields"]


def test_it_rejects_a_missing_required_answer(client: Any, event_type: Any) -> None:
    response = post_booking(client, london(next_weekday(), 10), answers={})
    assert response.status_code == 400
    assert "goal" in response.json()["fields"]["answers"]


def test_it_rejects_malformed_json_with_a_400(client: Any, event_type: Any) -> None:
    response = client.post("/api/bookings/", "{nope", content_type="application/json")
    assert response.status_code == 400


def test_it_describes_both_endpoints_in_the_openapi_schema(client: Any) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/slots/" in text and "/api/bookings/" in text
