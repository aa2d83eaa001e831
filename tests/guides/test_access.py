"""Rule 1: paid text never leaves the server to someone not entitled, on any output."""

import pytest

from guides.access import can_view
from guides.models import Guide

pytestmark = pytest.mark.django_db

SECRET = "Zebracorn"


def outputs(client, guide):
    """Every place a guide's text can appear."""
    return {
        "page": client.get(f"/guides/{guide.slug}/").content.decode(),
        "search": client.get("/search/?q=zebracorn negotiation").content.decode(),
        "api": client.get("/api/guides/search/?q=zebracorn").content.decode(),
        "rss": client.get("/feeds/guides/").content.decode(),
        "atom": client.get("/feeds/guides/atom/").content.decode(),
        "category feed": client.get(f"/feeds/guides/{guide.category.slug}/").content.decode(),
    }


def test_a_visitor_never_receives_paid_text_from_any_output(client, paid_guide):
    for name, text in outputs(client, paid_guide).items():
        assert SECRET not in text, name
    page = client.get(f"/guides/{paid_guide.slug}/").content.decode()
    assert "The opening paragraph anyone may read" in page
    assert "Unlock the full guide" in page


def test_a_member_without_a_purchase_never_receives_paid_text(client, candidate, paid_guide):
    client.force_login(candidate)
    for name, text in outputs(client, paid_guide).items():
        assert SECRET not in text, name


def test_a_buyer_reads_the_paid_text_on_the_page_and_in_search(
    client, candidate, paid_guide, entitle
):
    entitle(candidate, paid_guide)
    client.force_login(candidate)
    assert SECRET in client.get(f"/guides/{paid_guide.slug}/").content.decode()
    assert SECRET in client.get("/search/?q=zebracorn").content.decode()
    api = client.get("/api/guides/search/?q=zebracorn").json()
    assert api["total"] == 1 and api["results"][0]["full_text"] is True
    # Feeds are public documents: even a buyer's feed reader gets the preview only.
    assert SECRET not in client.get("/feeds/guides/").content.decode()


def test_members_guides_open_to_any_signed_in_reader_and_tease_visitors(
    client, candidate, members_guide
):
    assert SECRET not in client.get(f"/guides/{members_guide.slug}/").content.decode()
    client.force_login(candidate)
    assert SECRET in client.get(f"/guides/{members_guide.slug}/").content.decode()


def test_another_buyers_purchase_unlocks_nothing_for_a_stranger(
    client, candidate, stranger, paid_guide, entitle
):
    entitle(candidate, paid_guide)
    client.force_login(stranger)
    for name, text in outputs(client, paid_guide).items():
        assert SECRET not in text, name


def test_can_view_decides_for_every_visibility(candidate, coach, public_guide, paid_guide):
    from django.contrib.auth.models import AnonymousUser

    assert can_view(AnonymousUser(), public_guide)
    assert not can_view(AnonymousUser(), paid_guide)
    assert not can_view(candidate, paid_guide)
    assert can_view(coach, paid_guide)


def test_drafts_and_scheduled_guides_are_not_served(client, public_guide):
    from datetime import timedelta

    from django.utils import timezone

    public_guide.status = "scheduled"
    public_guide.published_at = timezone.now() + timedelta(days=1)
    public_guide.save()
    assert client.get(f"/guides/{public_guide.slug}/").status_code == 404
    assert public_guide.title not in client.get("/guides/").content.decode()


def test_a_buyers_cached_article_never_reaches_a_stranger(
    client, candidate, stranger, paid_guide, entitle
):
    entitle(candidate, paid_guide)
    client.force_login(candidate)
    pages = [client.get(f"/guides/{paid_guide.slug}/").content.decode() for _ in range(2)]
    assert all(SECRET in page for page in pages)  # the second from the article cache
    client.force_login(stranger)
    page = client.get(f"/guides/{paid_guide.slug}/").content.decode()
    assert SECRET not in page and "Unlock the full guide" in page


def test_search_matches_gated_full_text_only_for_readers_of_it(
    client, candidate, coach, members_guide, paid_guide
):
    """A word only in the gated part finds the guide for those who may read it, no one else."""
    assert client.get("/api/guides/search/?q=zebracorn").json()["total"] == 0
    client.force_login(candidate)
    found = client.get("/api/guides/search/?q=zebracorn").json()
    assert [r["slug"] for r in found["results"]] == [members_guide.slug]
    assert SECRET in found["results"][0]["snippet"] and found["results"][0]["full_text"]
    client.force_login(coach)
    found = client.get("/api/guides/search/?q=zebracorn").json()
    assert {r["slug"] for r in found["results"]} == {members_guide.slug, paid_guide.slug}


def test_the_gating_rule_in_sql_agrees_with_the_rule_in_python_in_every_case(
    public_guide, members_guide, paid_guide
):
    from itertools import product

    from django.db import connection

    from guides.access import ReadingRights

    tier_guide = Guide.objects.create(
        title="For members",
        slug="for-members",
        summary="s",
        category=public_guide.category,
        visibility=Guide.Visibility.TIER,
        tier="member",
    )
    guides = [public_guide, members_guide, paid_guide, tier_guide]
    for everything, members, entitled, tiers in product(
        [False, True], [False, True], [(), (paid_guide.pk,)], [(), ("free",), ("free", "member")]
    ):
        rights = ReadingRights(
            everything=everything,
            members=members,
            entitled=frozenset(entitled),
            tiers=frozenset(tiers),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT g.id, {ReadingRights.SQL} FROM guides_guide g",  # noqa: S608
                rights.sql_params(),
            )
            in_sql = dict(cursor.fetchall())
        in_python = {
            guide.pk: rights.can_read(guide.visibility, guide.pk, guide.tier) for guide in guides
        }
        assert in_sql == in_python, rights
