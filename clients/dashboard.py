"""The coach's dashboard: figures from every app, the expensive ones cached.

`figures()` computes the aggregates (a few grouped queries over orders,
bookings, subscribers and stage changes); they are kept in the cache for
CACHE_SECONDS and beat refreshes them before they run out
(clients.tasks.refresh_dashboard), so the page itself only reads the cache
plus two cheap queries for today.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clients import charts
from clients.models import Contact, Stage, StageChange
from coaching.roles import sees_money

CACHE_KEY = "clients:dashboard:v1"
CACHE_SECONDS = 600
MONTHS = 12
WEEKS = 12


def coach_zone() -> ZoneInfo:
    try:
        from bookings.availability import coach_zone_name

        return ZoneInfo(coach_zone_name())
    except Exception:  # noqa: BLE001 - no profile yet: the setting
        return ZoneInfo(settings.COACH_TIME_ZONE)


def money(minor: float) -> str:
    return f"£{minor / 100:,.0f}"


def _month_starts(now: datetime, count: int) -> list[date]:
    first = now.date().replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def revenue(now: datetime) -> dict[str, Any]:
    from store.models import Order, OrderItem

    months = _month_starts(now, MONTHS)
    start = datetime.combine(months[0], datetime.min.time(), tzinfo=now.tzinfo)
    paid = Order.objects.filter(paid_at__gte=start)
    by_month = {
        row["month"].date(): row["net"] or 0
        for row in paid.annotate(month=TruncMonth("paid_at", tzinfo=now.tzinfo))
        .values("month")
        .annotate(net=Sum(F("total") - F("amount_refunded")))
    }
    by_product = list(
        OrderItem.objects.filter(order__paid_at__gte=start)
        .values("product__title")
        .annotate(amount=Sum(F("unit_amount") * F("quantity")))
        .order_by("-amount")[:8]
    )
    return {
        "months": [m.strftime("%b %y") for m in months],
        "by_month": [by_month.get(m, 0) for m in months],
        "products": [row["product__title"] for row in by_product],
        "by_product": [row["amount"] or 0 for row in by_product],
        "this_month": by_month.get(months[-1], 0),
    }


def bookings_per_week(now: datetime) -> dict[str, Any]:
    from bookings.models import Booking

    monday = (now - timedelta(days=now.weekday())).date()
    weeks = [monday - timedelta(weeks=i) for i in range(WEEKS - 1, -1, -1)]
    start = datetime.combine(weeks[0], datetime.min.time(), tzinfo=now.tzinfo)
    rows = (
        Booking.objects.filter(start__gte=start, start__lt=now + timedelta(days=7))
        .exclude(status__in=Booking.UNSETTLED)
        .annotate(week=TruncWeek("start", tzinfo=now.tzinfo))
        .values("week")
        .annotate(
            total=Count("pk"),
            shown=Count("pk", filter=Q(status=Booking.Status.COMPLETED)),
            missed=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
        )
    )
    by_week = {row["week"].date(): row for row in rows}
    counts, rates = [], []
    for week in weeks:
        row = by_week.get(week)
        counts.append(row["total"] if row else 0)
        judged = (row["shown"] + row["missed"]) if row else 0
        rates.append(round(100 * row["shown"] / judged) if row and judged else None)
    shown = sum(by_week[w]["shown"] for w in by_week)
    missed = sum(by_week[w]["missed"] for w in by_week)
    return {
        "weeks": [w.strftime("%d %b") for w in weeks],
        "counts": counts,
        "rates": rates,
        "show_rate": round(100 * shown / (shown + missed)) if shown + missed else None,
    }


def funnel() -> dict[str, Any]:
    from newsletter.models import Subscriber

    subscribers = Subscriber.objects.filter(confirmed_at__isnull=False).count()
    reached = dict(
        StageChange.objects.filter(to_stage__role__in=[Stage.Role.DISCOVERY, Stage.Role.CLIENT])
        .values_list("to_stage__role")
        .annotate(n=Count("contact", distinct=True))
    )
    discovery = reached.get(Stage.Role.DISCOVERY, 0)
    clients = reached.get(Stage.Role.CLIENT, 0)
    return {
        "steps": ["Subscribers", "Discovery calls", "Clients"],
        "values": [subscribers, discovery, clients],
        "rates": [
            "",
            f"{100 * discovery / subscribers:.0f} % of subscribers" if subscribers else "",
            f"{100 * clients / discovery:.0f} % of calls" if discovery else "",
        ],
    }


def time_in_stage() -> list[dict[str, Any]]:
    """Median days between entering a stage and leaving it, per stage of the default pipeline."""
    sql = """
        with spans as (
            select to_stage_id,
                   lead(at) over (partition by contact_id order by at, id) - at as span
            from clients_stagechange
        )
        select to_stage_id,
               percentile_cont(0.5) within group (order by extract(epoch from span)) / 86400.0,
               count(*)
        from spans where span is not null group by to_stage_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        medians = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
    from clients.models import Pipeline

    pipeline = Pipeline.objects.filter(is_default=True).first()
    if pipeline is None:
        return []
    return [
        {"stage": stage.name, "days": round(medians[stage.pk][0], 1), "n": medians[stage.pk][1]}
        for stage in pipeline.stages.all()
        if stage.pk in medians
    ]


def subscriber_growth(now: datetime) -> dict[str, Any]:
    from newsletter.models import Subscriber

    months = _month_starts(now, MONTHS)
    start = datetime.combine(months[0], datetime.min.time(), tzinfo=now.tzinfo)
    confirmed = Subscriber.objects.filter(confirmed_at__isnull=False)
    base = confirmed.filter(confirmed_at__lt=start).count()
    new = {
        row["month"].date(): row["n"]
        for row in confirmed.filter(confirmed_at__gte=start)
        .annotate(month=TruncMonth("confirmed_at", tzinfo=now.tzinfo))
        .values("month")
        .annotate(n=Count("pk"))
    }
    running, totals = base, []
    for month in months:
        running += new.get(month, 0)
        totals.append(running)
    return {"months": [m.strftime("%b %y") for m in months], "totals": totals}


def memberships() -> dict[str, Any] | None:
    """Members by tier, MRR, churn and trial conversion, while the members app is installed."""
    if not apps.is_installed("members"):
        return None
    from members.metrics import figures as membership_figures

    return membership_figures()


def figures(now: datetime | None = None) -> dict[str, Any]:
    now = (now or timezone.now()).astimezone(coach_zone())
    return {
        "computed_at": now,
        "revenue": revenue(now),
        "bookings": bookings_per_week(now),
        "funnel": funnel(),
        "time_in_stage": time_in_stage(),
        "growth": subscriber_growth(now),
        "members": memberships(),
    }


def membership_charts(found: dict[str, Any] | None) -> list[tuple[str, Any]]:
    if not found:
        return []
    conversion = (
        f"{found['trial_conversion']:.0f}% of {found['trials_over']} ended trials converted"
        if found["trial_conversion"] is not None
        else "no trial has ended yet"
    )
    return [
        (
            f"Members by tier (MRR {money(found['mrr'])})",
            charts.hbar_chart(
                "Members by tier",
                found["tiers"],
                found["members"],
                notes=[f"{money(value)} MRR" for value in found["mrr_by_tier"]],
            ),
        ),
        (
            f"Members lost per month and churn rate ({conversion})",
            charts.bar_chart(
                "Members lost per month",
                found["months"],
                found["churned"],
                line=found["churn_rates"],
                line_label="churn",
                empty_text="No member has left",
            ),
        ),
    ]


def refresh() -> dict[str, Any]:
    data = figures()
    cache.set(CACHE_KEY, data, CACHE_SECONDS)
    return data


def cached_figures() -> dict[str, Any]:
    data = cache.get(CACHE_KEY)
    if data is None:
        data = refresh()
    return dict(data)


def today(now: datetime | None = None) -> dict[str, Any]:
    """Cheap and live: today's calls and this week's new leads."""
    from bookings.models import Booking

    tz = coach_zone()
    now = (now or timezone.now()).astimezone(tz)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    calls = list(
        Booking.objects.filter(
            start__gte=start,
            start__lt=start + timedelta(days=1),
            status__in=[Booking.Status.CONFIRMED, Booking.Status.COMPLETED, Booking.Status.NO_SHOW],
        )
        .select_related("event_type")
        .order_by("start")[:20]
    )
    return {
        "calls": [
            {
                "booking": call,
                "local_start": call.start.astimezone(tz),
                "brief_url": reverse("admin:clients_contact_brief", args=[call.pk]),
            }
            for call in calls
        ],
        "new_leads": Contact.objects.filter(created_at__gte=now - timedelta(days=7)).count(),
    }


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    """settings.UNFOLD["DASHBOARD_CALLBACK"]: the admin index becomes the dashboard."""
    data = cached_figures()
    rev, book, fun, growth = data["revenue"], data["bookings"], data["funnel"], data["growth"]
    stages = data["time_in_stage"]
    context.update(
        {
            "today": today(),
            "revenue_this_month": money(rev["this_month"]),
            "show_rate": book["show_rate"],
            "computed_at": data["computed_at"],
            "charts": [
                (
                    "Revenue by month",
                    charts.bar_chart("Revenue by month", rev["months"], rev["by_month"], fmt=money),
                ),
                (
                    "Revenue by product (12 months)",
                    charts.hbar_chart(
                        "Revenue by product", rev["products"], rev["by_product"], fmt=money
                    ),
                ),
                (
                    "Bookings per week and show rate",
                    charts.bar_chart(
                        "Bookings per week",
                        book["weeks"],
                        book["counts"],
                        line=book["rates"],
                        line_label="show rate",
                        empty_text="No bookings yet",
                    ),
                ),
                (
                    "Funnel: subscriber → discovery call → client",
                    charts.hbar_chart("Funnel", fun["steps"], fun["values"], notes=fun["rates"]),
                ),
                (
                    "Median days in stage",
                    charts.hbar_chart(
                        "Median days in stage",
                        [s["stage"] for s in stages],
                        [s["days"] for s in stages],
                        fmt=lambda v: f"{v:.1f} d",
                        notes=[f"{s['n']} moves" for s in stages],
                    ),
                ),
                (
                    "Subscribers",
                    charts.line_chart("Subscribers", growth["months"], growth["totals"]),
                ),
                *membership_charts(data.get("members")),
            ],  # fmt: skip
            "board_url": reverse("admin:clients_contact_board"),
            "calendar_url": "/admin/bookings/booking/calendar/",
        }
    )
    if not sees_money(request.user):
        # Staff without the money permission (an Assistant) see the same page,
        # without the revenue figure and charts.
        context["revenue_this_month"] = None
        context["charts"] = [
            c for c in context["charts"] if not c[0].startswith("Revenue") and "MRR" not in c[0]
        ]
    return context
