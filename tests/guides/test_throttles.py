"""Search and the view beacon are limited per network, on the page and in the API."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_a_minute(settings: Any) -> None:
    settings.THROTTLE_LIMITS = {
        **settings.THROTTLE_LIMITS,
        "search": {"ip": (3, 60)},
        "view-beacon": {"ip": (3, 3600)},
    }


def test_the_search_api_answers_429_with_retry_after_when_one_network_searches_too_fast(
    client: Any, public_guide: Any, three_a_minute: None
) -> None:
    statuses = [
        client.get("/api/guides/search/", {"q": f"careers {n}"}).status_code for n in range(4)
    ]

    response = client.get("/api/guides/search/", {"q": "careers"})
    assert statuses == [200, 200, 200, 429]
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["error"] == "Too many searches from here just now."


def test_the_search_page_says_why_it_refuses(
    client: Any, public_guide: Any, three_a_minute: None
) -> None:
    for n in range(3):
        client.get("/search/", {"q": f"careers {n}"})

    response = client.get("/search/", {"q": "careers again"})

    assert response.status_code == 429
    assert "Too many searches from here" in response.content.decode()


def test_views_past_the_limit_are_not_counted(
    client: Any, public_guide: Any, three_a_minute: None
) -> None:
    statuses = [client.post(f"/guides/{public_guide.slug}/viewed/").status_code for _ in range(5)]

    public_guide.refresh_from_db()
    assert statuses == [200, 200, 200, 429, 429]
    assert public_guide.view_count == 3
