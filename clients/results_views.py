"""The coach's results dashboard: offers per quarter, median uplift and time to offer,
roles and companies, drawn with the workspace's own SVG charts; filterable by package."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from clients import charts, results
from clients.models import Engagement, Outcome


def dashboard(admin: Any, request: HttpRequest) -> HttpResponse:
    packages = sorted(
        set(
            Engagement.objects.filter(outcomes__kind=Outcome.Kind.OFFER).values_list(
                "title", flat=True
            )
        )
    )
    package = request.GET.get("package", "")
    offers = Outcome.objects.offers()
    if package:
        offers = offers.filter(engagement__title=package)
    data = results.figures(offers)
    roles, companies = data["roles"], data["companies"]
    context = {
        **admin.admin_site.each_context(request),
        "title": "Results",
        "opts": Outcome._meta,
        "packages": packages,
        "package": package,
        "data": data,
        "median_weeks": results.weeks(int(data["median_days_to_offer"]))
        if data["median_days_to_offer"] is not None
        else None,
        "charts": [
            (
                "Offers per quarter",
                charts.bar_chart(
                    "Offers per quarter",
                    data["quarters"],
                    data["per_quarter"],
                    empty_text="No offers recorded yet",
                ),
            ),
            (
                "Roles",
                charts.hbar_chart("Offers by role", [r for r, _ in roles], [n for _, n in roles]),
            ),
            (
                "Companies",
                charts.hbar_chart(
                    "Offers by company", [c for c, _ in companies], [n for _, n in companies]
                ),
            ),
        ],  # fmt: skip
    }
    return TemplateResponse(request, "clients/admin/results.html", context)
