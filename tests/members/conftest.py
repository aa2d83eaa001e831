"""Memberships' fixtures: tiers, tier-gated guides, the simulated provider."""

from __future__ import annotations

from typing import Any

import pytest

from members.models import Tier
from tests.guides.factories import GuideFactory

SECRET = "Zebracorn negotiation playbook"


@pytest.fixture(autouse=True)
def _simulated_stripe(settings: Any) -> None:
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def free_tier(db: None) -> Tier:
    return Tier.objects.create(name="Free", slug="free", rank=0)


@pytest.fixture
def member_tier(db: None, free_tier: Tier) -> Tier:
    return Tier.objects.create(
        name="Member",
        slug="member",
        rank=10,
        monthly_amount=1500,
        yearly_amount=15000,
        trial_days=7,
        product_discount_percent=20,
        perks="Every members' guide\nThe members' newsletter",
    )


@pytest.fixture
def pro_tier(db: None, member_tier: Tier) -> Tier:
    return Tier.objects.create(name="Pro", slug="pro", rank=20, monthly_amount=4000)


@pytest.fixture
def tier_guide(db: None, member_tier: Tier) -> Any:
    return GuideFactory(
        title="The members playbook", slug="members-playbook", visibility="tier", tier="member"
    )


@pytest.fixture
def pro_guide(db: None, pro_tier: Tier) -> Any:
    return GuideFactory(
        title="The pro playbook", slug="pro-playbook", visibility="tier", tier="pro"
    )
