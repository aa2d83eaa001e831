"""What memberships add to a signed-in reader's guide page: a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from members import clock
from members.models import Membership, Status
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _tier_queries(client, user, guide) -> int:
    client.force_login(user)
    client.get(guide.get_absolute_url())  # warm the caches a page keeps
    with CaptureQueriesContext(connection) as queries:
        assert client.get(guide.get_absolute_url()).status_code == 200
    return sum(1 for q in queries.captured_queries if "members_" in q["sql"])


def test_the_tiers_of_a_reader_cost_two_or_three_small_queries_on_a_gated_guide_page(
    client, member_tier, tier_guide
):
    reader = make_user("reader@example.com")
    # The membership (none), then the free tiers.
    assert _tier_queries(client, reader, tier_guide) == 2
    now = clock.now()
    Membership.objects.create(
        user=reader,
        tier=member_tier,
        status=Status.ACTIVE,
        stripe_subscription_id="sub_1",
        current_period_start=now,
        current_period_end=now + dt.timedelta(days=30),
    )
    # The membership with its tier, the simulated clock's offset (none with a Stripe
    # key), and the tiers it includes.
    assert _tier_queries(client, reader, tier_guide) == 3
