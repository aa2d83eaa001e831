"""Demo memberships: Free and Member tiers, a guide for members, and a footer link to the
pricing page. Keyed by slug, so loading twice changes nothing."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from coaching.models import MenuItem
from guides.models import Category, Guide
from members.models import MembershipSettings, Tier

GUIDE_BODY = """\
Members asked for the questions behind the questions: what an interviewer for an
AI engineering role is really checking when they ask each one.

<!-- more -->

## The question bank

1. *Walk me through an evaluation you designed.* They check that you measured the
   product's outcome, not the model's loss.
2. *When would you not use an LLM?* They check judgement: cost, latency, risk.
3. *How did you handle a regression after a model update?* They check that you had
   a baseline and a rollback.
"""


def load(command: Any) -> str:
    Tier.objects.update_or_create(
        slug="free",
        defaults={"name": "Free", "rank": 0, "description": "Every public guide, and the "
                  "guides for signed-in readers."},
    )  # fmt: skip
    member, _ = Tier.objects.update_or_create(
        slug="member",
        defaults={
            "name": "Member",
            "rank": 10,
            "description": "The members' guides, the members' letter and a store discount.",
            "perks": "Every members' guide in full\nA monthly Q&A write-up",
            "monthly_amount": 900,
            "yearly_amount": 9000,
            "trial_days": 7,
            "product_discount_percent": 15,
        },
    )
    MembershipSettings.current()
    category = Category.objects.order_by("position").first()
    if category is not None:
        Guide.objects.update_or_create(
            slug="members-interview-question-bank",
            defaults={
                "title": "The members' interview question bank",
                "summary": "What each AI engineering interview question is really checking.",
                "body": GUIDE_BODY,
                "category": category,
                "visibility": Guide.Visibility.TIER,
                "tier": member.slug,
                "status": Guide.Status.PUBLISHED,
                "published_at": timezone.now(),
            },
        )
    MenuItem.objects.get_or_create(
        menu=MenuItem.Menu.FOOTER, url="/pricing/", defaults={"label": "Membership", "position": 50}
    )
    return "2 tiers, a members' guide, a footer link to /pricing/"
