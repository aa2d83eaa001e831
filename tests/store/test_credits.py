from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from store.models import CreditGrant, CreditLedger
from tests.store.conftest import post_event, session_completed, start_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def grant(client: Any, candidate: Any, coaching_package: Any) -> CreditGrant:
    order = start_order(coaching_package, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    return CreditGrant.objects.get()


def test_credits_are_spent_one_at_a_time_and_never_below_zero(grant: CreditGrant) -> None:
    assert [grant.use_one(reference=f"booking-{i}") for i in range(4)] == [True, True, True, False]
    grant.refresh_from_db()
    assert grant.used == 3
    assert grant.remaining == 0
    assert list(CreditLedger.objects.values_list("change", flat=True)) == [-1, -1, -1]


def test_giving_back_never_goes_above_the_total(grant: CreditGrant) -> None:
    assert grant.give_back() is False
    grant.use_one()
    assert grant.give_back(reason="cancelled in time") is True
    assert grant.give_back() is False
    grant.refresh_from_db()
    assert grant.used == 0
    assert CreditLedger.objects.filter(change=1).count() == 1


def test_expired_or_revoked_credits_cannot_be_used(grant: CreditGrant) -> None:
    CreditGrant.objects.update(expires_at=timezone.now() - timedelta(days=1))
    grant.refresh_from_db()
    assert grant.use_one() is False
    CreditGrant.objects.update(expires_at=None)
    grant.refresh_from_db()
    grant.revoke()
    assert grant.use_one() is False


def test_usable_credits_are_listed_soonest_expiry_first(grant: CreditGrant, candidate: Any) -> None:
    assert list(CreditGrant.objects.usable_by(candidate)) == [grant]
    grant.use_one()
    grant.use_one()
    grant.use_one()
    assert list(CreditGrant.objects.usable_by(candidate)) == []


def test_the_library_shows_remaining_sessions(client: Any, candidate: Any, grant: Any) -> None:
    client.force_login(candidate)
    assert "3 coaching sessions left" in client.get("/library/").content.decode()
