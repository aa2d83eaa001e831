"""The coach's dashboard counts members by tier, MRR, churn and trial conversion."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from members import clock
from members.metrics import figures
from members.models import Membership, MembershipInvoice, Status
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def _member(n: int, tier: Any, **state: Any) -> Membership:
    now = clock.now()
    fields = {
        "status": Status.ACTIVE,
        "interval": "month",
        "current_period_start": now - dt.timedelta(days=3),
        "current_period_end": now + dt.timedelta(days=27),
        "stripe_subscription_id": f"sub_{n}",
        **state,
    }
    return Membership.objects.create(user=make_user(f"m{n}@example.com"), tier=tier, **fields)


def test_members_by_tier_mrr_churn_and_trial_conversion(member_tier, pro_tier):
    now = clock.now()
    _member(1, member_tier)  # 15.00 a month
    _member(2, member_tier, interval="year")  # 150.00 a year: 12.50 a month
    _member(3, pro_tier)  # 40.00
    _member(4, member_tier, status=Status.TRIALING, trial_end=now + dt.timedelta(days=2))
    converted = _member(5, member_tier, trial_end=now - dt.timedelta(days=2))
    MembershipInvoice.objects.create(
        stripe_invoice_id="in_1",
        user=converted.user,
        status="paid",
        amount_paid=1500,
        amount_due=1500,
        created=now - dt.timedelta(days=1),
    )
    lapsed = _member(6, member_tier, status=Status.CANCELED, trial_end=now - dt.timedelta(days=10))
    Membership.objects.filter(pk=lapsed.pk).update(
        ended_at=now, started_at=now - dt.timedelta(days=90)
    )
    Membership.objects.exclude(pk=lapsed.pk).update(started_at=now - dt.timedelta(days=90))

    found = figures(now)
    assert dict(zip(found["tiers"], found["members"], strict=True)) == {"Member": 4, "Pro": 1}
    assert found["mrr"] == 1500 + 1250 + 4000 + 1500  # the trial pays nothing yet
    assert found["churned"][-1] == 1
    assert found["churn_rates"][-1] == round(100 / 6, 1)
    assert found["trials_over"] == 2 and found["trial_conversion"] == 50.0


def test_the_charts_page_shows_the_membership_figures(coach_client: Client, member_tier):
    _member(1, member_tier)
    page = coach_client.get("/admin/").content.decode()
    assert "Members by tier (MRR £15)" in page
    assert "Members lost per month" in page


def test_an_assistant_sees_the_churn_chart_but_not_the_mrr(client: Client, member_tier):
    from tests.security.conftest import make_staff

    _member(1, member_tier)
    client.force_login(make_staff("assistant@example.com", "Assistant"))
    page = client.get("/admin/").content.decode()
    assert "Members lost per month" in page
    assert "MRR" not in page
