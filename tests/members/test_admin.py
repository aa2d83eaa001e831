"""The coach sets tiers, the grace period, and marks guides for a tier, in the admin."""

from __future__ import annotations

import pytest

from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db


def test_a_tier_s_slug_is_fixed_once_saved_because_guides_name_it(coach_client, member_tier):
    assert coach_client.get("/admin/members/tier/add/").status_code == 200
    page = coach_client.get(f"/admin/members/tier/{member_tier.pk}/change/").content.decode()
    assert 'name="slug"' not in page and "member" in page
    assert coach_client.get("/admin/members/membershipsettings/").status_code == 200
    assert coach_client.get("/admin/members/membership/").status_code == 200


def test_a_guide_for_members_of_a_tier_must_name_the_tier(coach_client, member_tier):
    guide = GuideFactory()
    form = {
        "title": guide.title, "slug": guide.slug, "summary": guide.summary,
        "category": guide.category_id, "body": guide.body, "status": "draft",
        "visibility": "tier", "tier": "",
        "kind": "article", "level": "", "read_time_minutes": "0",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0",
        "placements-TOTAL_FORMS": "0", "placements-INITIAL_FORMS": "0",
    }  # fmt: skip
    response = coach_client.post(f"/admin/guides/guide/{guide.pk}/change/", form)
    assert response.status_code == 200
    assert "Name the tier whose members read this guide." in response.content.decode()
    response = coach_client.post(
        f"/admin/guides/guide/{guide.pk}/change/", {**form, "tier": "member"}
    )
    assert response.status_code == 302
    guide.refresh_from_db()
    assert (guide.visibility, guide.tier) == ("tier", "member")
