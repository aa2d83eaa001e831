from __future__ import annotations

from typing import Any

import pytest

from coaching.models import CoachProfile
from tests.bookings.factories import make_event_type


@pytest.fixture
def coach_profile(db: None) -> CoachProfile:
    return CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip


@pytest.fixture
def event_type(coach: Any, coach_profile: CoachProfile) -> Any:
    return make_event_type(coach)
