"""The coach's membership figures: members by tier, MRR, churn and trial conversion.

Read by the dashboard (clients/dashboard.py), which caches them with its other figures.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth

from members import clock
from members.models import (
    Interval,
    Membership,
    MembershipInvoice,
    MembershipSettings,
    Status,
    Tier,
)

MONTHS = 6


def monthly_amount(tier: Tier, interval: str) -> float:
    amount = tier.amount(interval) or 0
    return amount / 12 if interval == Interval.YEAR else float(amount)


def _month_starts(now: dt.datetime, count: int) -> list[dt.date]:
    first = now.date().replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def figures(now: dt.datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    grace = MembershipSettings.current().grace_days
    live = Membership.objects.with_access(now, grace).select_related("tier")
    by_tier: dict[str, list[float]] = {
        tier.name: [0, 0.0]
        for tier in Tier.objects.exclude(monthly_amount=None, yearly_amount=None)
    }
    for membership in live:
        counts = by_tier.setdefault(membership.tier.name, [0, 0.0])
        counts[0] += 1
        # Trials pay nothing yet: MRR counts what renews.
        if membership.status != Status.TRIALING:
            counts[1] += monthly_amount(membership.tier, membership.interval)
    mrr = sum(value for _count, value in by_tier.values())

    # Churn: memberships that ended in a month, against those alive at its start.
    months = _month_starts(now, MONTHS)
    start = dt.datetime.combine(months[0], dt.time.min, tzinfo=now.tzinfo)
    ended = Membership.objects.filter(status=Status.CANCELED, ended_at__isnull=False)
    churned = {
        row["month"].date(): row["n"]
        for row in ended.filter(ended_at__gte=start)
        .annotate(month=TruncMonth("ended_at", tzinfo=now.tzinfo))
        .values("month")
        .annotate(n=Count("pk"))
    }
    churn_counts, churn_rates = [], []
    for month in months:
        month_start = dt.datetime.combine(month, dt.time.min, tzinfo=now.tzinfo)
        alive = (
            Membership.objects.filter(started_at__lt=month_start)
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=month_start))
            .count()
        )
        lost = churned.get(month, 0)
        churn_counts.append(lost)
        churn_rates.append(round(100 * lost / alive, 1) if alive else None)

    # Trial conversion: of trials already over, how many were followed by a payment.
    paid_after = MembershipInvoice.objects.filter(
        user=OuterRef("user"),
        status=MembershipInvoice.State.PAID,
        amount_paid__gt=0,
        created__gte=OuterRef("trial_end"),
    )
    trials = Membership.objects.filter(trial_end__lt=now).annotate(converted=Exists(paid_after))
    trials_over = trials.count()
    converted = trials.filter(converted=True).count()
    return {
        "tiers": list(by_tier),
        "members": [int(count) for count, _value in by_tier.values()],
        "mrr_by_tier": [value for _count, value in by_tier.values()],
        "mrr": mrr,
        "months": [m.strftime("%b %y") for m in months],
        "churned": churn_counts,
        "churn_rates": churn_rates,
        "trials_over": trials_over,
        "trial_conversion": round(100 * converted / trials_over, 1) if trials_over else None,
    }
