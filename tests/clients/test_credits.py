"""Credits: never below zero, never above the total, never lost (total = used + left + expired)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clients import services
from clients.models import ClientsError, CreditAdjustment, Engagement, Session
from tests.clients.factories import make_contact, make_engagement

pytestmark = pytest.mark.django_db

OUTCOMES = ["completed", "no_show", "late_cancel", "cancelled", "scheduled"]
operations = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.just(0)),
        st.tuples(st.sampled_from(OUTCOMES), st.integers(0, 7)),
        st.tuples(st.just("give_back"), st.integers(0, 7)),
        st.tuples(st.just("use"), st.just(0)),
        st.tuples(st.just("expire"), st.just(0)),
    ),
    max_size=25,
)


def check_invariants(engagement: Engagement) -> None:
    engagement.refresh_from_db()
    assert engagement.credits_used >= 0
    assert engagement.credits_left >= 0
    assert engagement.credits_expired >= 0
    assert engagement.credits_used + engagement.credits_left + engagement.credits_expired == (
        engagement.credits_total
    )
    # The ledger explains every credit that is not left.
    ledger = sum(engagement.adjustments.values_list("change", flat=True))
    assert -ledger == engagement.credits_used + engagement.credits_expired
    # A session's flag agrees with the ledger.
    assert engagement.sessions.filter(used_credit=True).count() <= engagement.credits_used


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    total=st.integers(0, 5),
    no_show_uses=st.booleans(),
    late_uses=st.booleans(),
    ops=operations,
)
def test_no_sequence_of_bookings_no_shows_refunds_and_overrides_loses_a_credit(
    coach: Any, total: int, no_show_uses: bool, late_uses: bool, ops: list[tuple[str, int]]
) -> None:
    contact = make_contact()
    engagement = make_engagement(
        contact, total=total, no_show_uses_credit=no_show_uses, late_cancel_uses_credit=late_uses,
        expires_at=timezone.now() + timedelta(days=30),
    )  # fmt: skip
    sessions: list[Session] = []
    for op, index in ops:
        if op == "book":
            sessions.append(Session.objects.create(contact=contact, engagement=engagement))
        elif op == "use":
            engagement.use_credit(reason="coach override")
        elif op == "expire":
            Engagement.objects.filter(pk=engagement.pk).update(expires_at=timezone.now())
            engagement.expire_unused()
        elif sessions:
            session = sessions[index % len(sessions)]
            if op == "give_back":
                services.give_back_credit(session=session, reason="goodwill", by=coach)
            else:
                services.record_session_outcome(session=session, outcome=op, by=coach)
        check_invariants(engagement)


def test_a_no_show_uses_a_credit_only_when_the_policy_says_so(coach: Any) -> None:
    contact = make_contact()
    strict = make_engagement(contact, total=2, no_show_uses_credit=True)
    lenient = make_engagement(contact, total=2, no_show_uses_credit=False)
    for engagement in (strict, lenient):
        session = Session.objects.create(contact=contact, engagement=engagement)
        services.record_session_outcome(session=session, outcome="no_show")
        engagement.refresh_from_db()
    assert (strict.credits_used, lenient.credits_used) == (1, 0)


def test_correcting_an_outcome_settles_the_credit_once(coach: Any) -> None:
    contact = make_contact()
    engagement = make_engagement(contact, total=3, late_cancel_uses_credit=False)
    session = Session.objects.create(contact=contact, engagement=engagement)
    services.record_session_outcome(session=session, outcome="completed")
    services.record_session_outcome(session=session, outcome="completed")
    engagement.refresh_from_db()
    assert engagement.credits_used == 1
    services.record_session_outcome(session=session, outcome="late_cancel")
    engagement.refresh_from_db()
    assert engagement.credits_used == 0
    assert list(engagement.adjustments.values_list("kind", flat=True)) == ["give_back", "use"]


def test_giving_a_credit_back_needs_a_reason_and_is_recorded(coach: Any) -> None:
    contact = make_contact()
    engagement = make_engagement(contact, total=1)
    session = Session.objects.create(contact=contact, engagement=engagement)
    services.record_session_outcome(session=session, outcome="no_show")
    with pytest.raises(ClientsError):
        engagement.give_back_credit(reason=" ")
    assert services.give_back_credit(session=session, reason="Train strike", by=coach) is True
    assert services.give_back_credit(session=session, reason="again", by=coach) is False
    adjustment = CreditAdjustment.objects.get(kind="give_back")
    assert (adjustment.change, adjustment.reason, adjustment.by) == (1, "Train strike", coach)
    engagement.refresh_from_db()
    assert engagement.credits_left == 1


def test_an_expired_package_cannot_be_used_and_its_credits_are_counted_as_expired() -> None:
    contact = make_contact()
    engagement = make_engagement(contact, total=3, expires_at=timezone.now() - timedelta(days=1))
    assert engagement.use_credit(reason="late") is False
    assert services.expire_engagements() == 3
    engagement.refresh_from_db()
    assert (engagement.credits_used, engagement.credits_expired, engagement.credits_left) == (
        0,
        3,
        0,
    )
