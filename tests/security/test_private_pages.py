"""Pages about one person are never kept by a shared or browser cache."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def personal_urls(world: Any) -> list[str]:
    token, number = world.booking_token, world.order.number
    return [
        "/library/",
        f"/library/items/{world.entitlement.pk}/",
        f"/library/orders/{number}/",
        f"/library/orders/{number}/invoice.pdf",
        "/portal/",
        f"/bookings/{token}/",
    ]


def test_every_personal_page_says_private_and_no_store(
    client: Any, world: Any, candidate: Any
) -> None:
    client.force_login(candidate)

    for url in personal_urls(world):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"private", "no-store"} <= directives, (url, directives)


def test_search_page_numbers_past_the_last_allowed_page_are_clamped(client: Any) -> None:
    deep = client.get("/search/", {"q": "careers", "page": "99999999"})
    huge = client.get("/search/", {"q": "careers", "page": "9" * 5000})

    assert deep.status_code == 200
    assert deep.context["page_number"] == 1000
    assert huge.status_code == 200
