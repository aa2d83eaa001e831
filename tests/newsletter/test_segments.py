"""Segments from first-party data: purchases, calls, pipeline stage, active clients."""

from __future__ import annotations

from typing import Any

import pytest

from coaching.models import CoachProfile, User
from newsletter.segments import apply_segment, available_filters
from tests.clients.factories import book, buy_package, make_contact, make_engagement, stage
from tests.newsletter.factories import subscribe_many

pytestmark = pytest.mark.django_db


def emails(weekly: Any, segment: dict[str, Any]) -> set[str]:
    return set(apply_segment(weekly.pk, segment).values_list("email_lower", flat=True))


def test_the_cross_app_filters_are_offered_when_their_apps_exist():
    names = {f.name for f in available_filters()}
    assert {"bought_product", "booked_call", "pipeline_stage", "exclude_active_clients"} <= names


def test_it_narrows_to_buyers_of_any_product_or_of_one(weekly):
    subscribe_many(weekly, 3)
    buyer = User.objects.create_user("r00001@example.com")
    order = buy_package(buyer)
    slug = order.items.get().product.slug
    assert emails(weekly, {"bought_product": "any"}) == {"r00001@example.com"}
    assert emails(weekly, {"bought_product": slug}) == {"r00001@example.com"}
    assert emails(weekly, {"bought_product": "something-else"}) == set()


def test_it_narrows_to_people_who_booked_a_call(weekly, coach):
    CoachProfile.objects.create(
        name="Alex", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    subscribe_many(weekly, 3)
    book(coach, email="R00002@example.com")
    assert emails(weekly, {"booked_call": True}) == {"r00002@example.com"}


def test_it_narrows_to_a_pipeline_stage_and_leaves_out_active_clients(weekly):
    subscribe_many(weekly, 4)
    lead = make_contact("r00000@example.com")
    lead.move_to(stage=stage("lead"))
    client = make_contact("r00001@example.com")
    client.move_to(stage=stage("discovery"))
    make_engagement(client)
    assert emails(weekly, {"pipeline_stage": "lead"}) == {"r00000@example.com"}
    everyone_else = {"r00000@example.com", "r00002@example.com", "r00003@example.com"}
    assert emails(weekly, {"exclude_active_clients": True}) == everyone_else


def test_the_admin_counts_the_audience_live(coach_client, weekly):
    subscribe_many(weekly, 5)
    make_engagement(make_contact("r00004@example.com"))
    response = coach_client.post(
        "/admin/newsletter/campaign/audience/",
        {"mailing_list": weekly.pk, "segment__exclude_active_clients": "on"},
    )
    assert response.status_code == 200
    assert b"<span data-audience-count>4</span>" in response.content
