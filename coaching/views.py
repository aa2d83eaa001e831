from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coaching.models import CoachingOffer, CoachProfile, Testimonial
from coaching.pagecache import cache_for_visitors


@require_GET
@cache_for_visitors()
def home(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coaching/home.html",
        {
            "profile": CoachProfile.current(),
            "testimonials": list(Testimonial.objects.published().filter(is_featured=True)[:3]),
            "offers": list(CoachingOffer.objects.filter(is_published=True)[:3]),
        },
    )


@require_GET
@cache_for_visitors()
def about(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coaching/about.html",
        {
            "profile": CoachProfile.current(),
            "testimonials": list(Testimonial.objects.published()),
        },
    )


@require_GET
@cache_for_visitors()
def coaching_offers(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "coaching/offers.html",
        {
            "offers": list(CoachingOffer.objects.filter(is_published=True)),
            "testimonials": list(Testimonial.objects.published()[:4]),
        },
    )


@require_GET
def robots(request: HttpRequest) -> HttpResponse:
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /accounts/",
        "Disallow: /library/",
        "Disallow: /bookings/",
        "Disallow: /portal/",
        f"Sitemap: {settings.SITE_URL}/sitemap.xml",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")


def server_error(request: HttpRequest) -> HttpResponse:
    """500 page; a lost database connection is a 503 with Retry-After instead.

    The psycopg pool checks connections on checkout, so the request after a
    PostgreSQL restart gets a fresh one; the request caught mid-way is told to
    retry, and its transaction was rolled back, so nothing half-written remains.
    """
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        if request.path.startswith(("/api/", "/stripe/")):
            response: HttpResponse = JsonResponse(
                {"error": "The service is briefly unavailable; please retry."}, status=503
            )
        else:
            response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = "5"
        return response
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "Something went wrong on our side."}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)


def _check(probe: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        probe()
    except Exception as error:  # noqa: BLE001 - any failure means "down"
        return {"status": "down", "error": error.__class__.__name__}
    return {"status": "up", "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("select 1")


def _cache() -> None:
    # Asks the client directly: the site's cache hides outages on purpose.
    cache._cache.get_client(write=True).ping()  # type: ignore[attr-defined]


def _broker() -> None:
    from coaching.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check(_database), "cache": _check(_cache), "broker": _check(_broker)}
    healthy = checks["database"]["status"] == "up"
    overall = "ok" if all(c["status"] == "up" for c in checks.values()) else "degraded"
    if not healthy:
        overall = "down"
    return JsonResponse(
        {"status": overall, "site": settings.SITE_NAME, **checks},
        status=200 if healthy else 503,
    )
