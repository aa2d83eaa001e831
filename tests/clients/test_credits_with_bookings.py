"""A package session booked online is charged once: bookings charges the store's grant,
and the client's engagement follows that record instead of charging the grant again."""

from __future__ import annotations

from typing import Any

import pytest

from bookings.models import Booking, EventType
from clients.models import Engagement, Session
from tests.bookings.conftest import coach_profile  # noqa: F401 - fixture
from tests.bookings.factories import make_event_type
from tests.bookings.test_credits import book_through_pages, give_credits

pytestmark = pytest.mark.django_db


@pytest.fixture
def package_type(coach: Any, coach_profile: Any) -> EventType:  # noqa: F811
    return make_event_type(
        coach, kind=EventType.Kind.PACKAGE, name="Coaching session", slug="coaching-session",
        intake_questions=[],
    )  # fmt: skip


def test_a_package_session_booked_online_costs_one_credit_on_both_records(
    client: Any, candidate: Any, package_type: EventType, django_capture_on_commit_callbacks: Any
) -> None:
    grant = give_credits(candidate, total=3)
    client.force_login(candidate)
    with django_capture_on_commit_callbacks(execute=True):
        book_through_pages(client, package_type)
    booking = Booking.objects.get()
    engagement = Engagement.objects.get(credit_grant=grant)
    grant.refresh_from_db()
    assert grant.used == 1
    assert engagement.credits_used == 1
    assert Session.objects.get(booking=booking).used_credit

    booking.mark(Booking.Status.COMPLETED)
    grant.refresh_from_db()
    engagement.refresh_from_db()
    assert (grant.used, engagement.credits_used) == (1, 1)
