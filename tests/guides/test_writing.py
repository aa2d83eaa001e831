import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from guides.models import Guide
from guides.services import restore_revision, save_guide
from guides.tasks import publish_scheduled_guides
from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db


def test_every_save_that_changes_the_text_keeps_the_previous_version(coach):
    guide = GuideFactory(body="First text.\n")
    guide.body = "Second text.\n"
    save_guide(guide=guide, author=coach)
    guide.summary = guide.summary  # nothing changed
    save_guide(guide=guide, author=coach)
    revisions = list(guide.revisions.all())
    assert [r.body for r in revisions] == ["First text.\n"]
    assert revisions[0].author == coach


def test_restoring_a_version_brings_it_back_and_keeps_the_replaced_text(coach):
    guide = GuideFactory(body="Original.\n")
    guide.body = "Rewritten.\n"
    save_guide(guide=guide, author=coach)
    restore_revision(revision=guide.revisions.get(), author=coach)
    guide.refresh_from_db()
    assert guide.body == "Original.\n"
    assert "<p>Original.</p>" in guide.body_html
    assert sorted(r.body for r in guide.revisions.all()) == ["Original.\n", "Rewritten.\n"]


def test_a_scheduled_guide_is_published_by_beat_at_its_time_and_only_once():
    start = timezone.now()
    guide = GuideFactory(status="scheduled", published_at=start + dt.timedelta(hours=1))
    assert publish_scheduled_guides() == 0
    with time_machine.travel(start + dt.timedelta(hours=1, minutes=1)):
        assert publish_scheduled_guides() == 1
        assert publish_scheduled_guides() == 0
    guide.refresh_from_db()
    assert guide.status == Guide.Status.PUBLISHED


def test_the_coach_compares_and_restores_a_version_in_the_admin(coach_client, coach):
    guide = GuideFactory(body="Old words.\n")
    guide.body = "New words.\n"
    save_guide(guide=guide, author=coach)
    revision = guide.revisions.get()
    url = f"/admin/guides/guide/{guide.pk}/revisions/{revision.pk}/"
    page = coach_client.get(url)
    assert page.status_code == 200
    html = page.content.decode().replace("&nbsp;", " ")
    assert "Old words." in html and "New words." in html
    assert "Restore this version" in html
    coach_client.post(url)
    guide.refresh_from_db()
    assert guide.body == "Old words.\n"


def test_the_coach_previews_a_draft_as_visitor_member_and_buyer(coach_client):
    guide = GuideFactory(status="draft", published_at=None, visibility="paid")
    visitor = coach_client.get(f"/admin/guides/guide/{guide.pk}/preview/visitor/")
    buyer = coach_client.get(f"/admin/guides/guide/{guide.pk}/preview/buyer/")
    assert "Zebracorn" not in visitor.content.decode()
    assert "Preview as a visitor" in visitor.content.decode()
    assert "Zebracorn" in buyer.content.decode()


def test_the_live_preview_renders_markdown_with_the_site_renderer(coach_client):
    response = coach_client.post(
        "/admin/guides/guide/markdown-preview/", {"body": "## Hi\n\n<script>x</script>"}
    )
    assert '<h2 id="hi">' in response.json()["html"]
    assert "<script>" not in response.json()["html"]


def test_the_guide_admin_pages_are_for_staff_only(client, candidate):
    client.force_login(candidate)
    response = client.get("/admin/guides/guide/markdown-preview/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"] or "/admin/login/" in response["Location"]


def test_saving_a_guide_in_the_admin_keeps_a_revision(coach_client):
    guide = GuideFactory(body="Before.\n")
    form = {
        "title": guide.title, "slug": guide.slug, "summary": guide.summary,
        "category": guide.category_id, "body": "After.\n", "status": "published",
        "published_at_0": "2026-01-01", "published_at_1": "10:00:00", "visibility": "public",
        "kind": "article", "level": "", "read_time_minutes": "0",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0",
        "placements-TOTAL_FORMS": "0", "placements-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = coach_client.post(f"/admin/guides/guide/{guide.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    guide.refresh_from_db()
    assert guide.body.strip() == "After."
    assert guide.revisions.get().body == "Before.\n"
