"""A paid guide's free preview fails closed: without a more marker it shows at most
25% of the words (and at most 400), everywhere the preview appears."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guides.admin import GuideAdminForm
from guides.models import Guide
from guides.rendering import count_words, preview_bound, split_preview
from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db

SECRET = "zanzibarquokka"


def paragraph(n: int, words: int = 30) -> str:
    return " ".join(f"p{n}w{i}" for i in range(words))


def short_paid_body() -> str:
    """Three paragraphs and nothing else: the old preview (first three) was all of it."""
    return "\n\n".join([paragraph(1), paragraph(2), f"{paragraph(3)} {SECRET}"])


def test_a_preview_without_a_marker_holds_at_most_a_quarter_of_the_words():
    preview, marked = split_preview(short_paid_body())
    assert not marked
    assert count_words(preview) <= count_words(short_paid_body()) // 4
    assert SECRET not in preview


def test_a_preview_without_a_marker_holds_at_most_four_hundred_words():
    body = "\n\n".join(paragraph(n, words=100) for n in range(100))
    preview, _ = split_preview(body)
    assert 0 < count_words(preview) <= 400


def test_one_long_paragraph_is_cut_at_the_bound_rather_than_shown_whole():
    body = paragraph(1, words=1000)
    preview, _ = split_preview(body)
    assert count_words(preview) == preview_bound(1000) == 250


def test_a_paid_guide_without_a_marker_shows_no_secret_on_the_page_feed_or_search(db):
    GuideFactory(
        title="Salary talks",
        visibility=Guide.Visibility.PAID,
        body=short_paid_body(),
    )
    client = Client()
    guide = Guide.objects.get(title="Salary talks")
    assert SECRET not in guide.preview_text
    for path in [guide.get_absolute_url(), "/feeds/guides/", "/feeds/guides/atom/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert SECRET not in response.content.decode(), path
    assert "Salary talks" not in client.get("/search/", {"q": SECRET}).content.decode()


def test_a_newsletter_embed_of_a_paid_guide_shows_only_the_bounded_preview(db):
    from newsletter.rendering import _guide_embed

    guide = GuideFactory(visibility=Guide.Visibility.PAID, body=short_paid_body())
    assert SECRET in guide.body_html
    html, text = _guide_embed(guide.slug)
    assert paragraph(1).split()[0] in html
    assert SECRET not in html and SECRET not in text


def form_data(**changes: Any) -> dict[str, Any]:
    guide = GuideFactory.build()
    data = {
        "title": "Offer letters",
        "slug": "offer-letters",
        "summary": "A summary.",
        "category": GuideFactory().category.pk,
        "body": "\n\n".join([paragraph(1), paragraph(2), "<!-- more -->", paragraph(3)]),
        "status": Guide.Status.PUBLISHED,
        "published_at": "2026-01-01 10:00:00",
        "visibility": Guide.Visibility.PAID,
        "kind": guide.kind,
        "level": guide.level,
        "read_time_minutes": 3,
    }
    return {**data, **changes}


def test_the_admin_refuses_to_publish_a_paid_guide_whose_marker_gives_away_too_much():
    form = GuideAdminForm(data=form_data())
    assert not form.is_valid()
    assert "preview" in str(form.errors["body"])


def test_the_admin_saves_the_same_guide_as_a_draft_or_as_public():
    assert "body" not in GuideAdminForm(data=form_data(status=Guide.Status.DRAFT)).errors
    public = GuideAdminForm(data=form_data(visibility=Guide.Visibility.PUBLIC))
    assert "body" not in public.errors


def test_the_admin_publishes_a_paid_guide_whose_marker_is_within_the_bound():
    body = "\n\n".join([paragraph(1), "<!-- more -->", paragraph(2), paragraph(3), paragraph(4)])
    assert "body" not in GuideAdminForm(data=form_data(body=body)).errors
