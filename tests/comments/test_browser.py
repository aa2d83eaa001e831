"""Done means: on a phone, a reader posts a comment and the coach answers it in the thread."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from comments.models import Comment, Commenter
from tests.conftest import screenshot
from tests.guides.factories import GuideFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_on_a_phone_a_reader_comments_and_the_coach_replies(
    page: Any, live_server: Any, candidate: Any, coach: Any
) -> None:
    guide = GuideFactory(title="Negotiating your first AI offer", slug="first-offer")
    Commenter.objects.create(user=candidate, approved_at="2026-01-01T00:00Z")
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, live_server, candidate)

    page.goto(f"{live_server.url}/guides/{guide.slug}/")
    page.get_by_role("link", name="Comment on this guide").scroll_into_view_if_needed()
    screenshot(page, "comments-guide-link-390", full_page=False)
    page.get_by_role("link", name="Comment on this guide").click()
    page.get_by_label("Your comment").fill(
        "Thanks! Asking for the band first worked: https://example.org/a-very-long-link-"
        "that-should-wrap-instead-of-scrolling-sideways-on-a-phone"
    )
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_selector(".comment-list .comment")

    sign_in(page, live_server, coach)
    page.goto(f"{live_server.url}/guides/{guide.slug}/comments/")
    page.locator(".comment-reply summary").first.click()
    page.get_by_label("Your reply").fill("Glad it helped. Next, ask about the equity refresh.")
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_selector(".comment-replies .comment-coach")

    assert page.locator(".comment-replies .pill-coach").inner_text() == "Coach"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "comments-thread-390")
    assert Comment.objects.filter(parent__isnull=False, by_coach=True).count() == 1
    assert page.js_errors == []
