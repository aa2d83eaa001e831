from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from coaching import seo
from coaching.models import CoachingOffer, CoachProfile, Page, Testimonial
from coaching.pagecache import cache_for_visitors


def _portrait_src(profile: CoachProfile | None) -> str:
    portrait = profile.portrait if profile else None
    return portrait.src if portrait else ""


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
    # A published page with the slug "about" replaces the built-in one: the coach's
    # own words at the address every old link already uses.
    page = Page.objects.published().filter(slug="about").first()
    if page is not None:
        return _render_page(request, page)
    profile = CoachProfile.current()
    title = f"About {profile.name}" if profile else "About"
    return render(
        request,
        "coaching/about.html",
        {
            "profile": profile,
            "testimonials": list(Testimonial.objects.published()),
            "share": seo.share(
                title=title,
                description=profile.headline if profile else title,
                path="/about/",
                image=_portrait_src(profile),
                kind="profile",
            ),
        },
    )


@require_GET
@cache_for_visitors()
def page(request: HttpRequest, slug: str) -> HttpResponse:
    return _render_page(request, get_object_or_404(Page.objects.published(), slug=slug))


def _render_page(request: HttpRequest, page: Page) -> HttpResponse:
    profile = CoachProfile.current()
    path = page.get_absolute_url()
    return render(
        request,
        "coaching/page.html",
        {
            "page": page,
            "profile": profile if page.slug == "about" else None,
            "share": seo.share(
                title=page.title,
                description=page.description or page.title,
                path=path,
                image=_portrait_src(profile),
            ),
            "structured_data": seo.json_ld(seo.breadcrumbs([("Home", "/"), (page.title, path)])),
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
            "share": seo.share(
                title="Coaching",
                description="Ways to work with the coach, starting with a free discovery call.",
                path="/coaching/",
            ),
        },
    )


@require_GET
@cache_for_visitors()
def coaching_offer(request: HttpRequest, slug: str) -> HttpResponse:
    offer = get_object_or_404(CoachingOffer.objects.filter(is_published=True), slug=slug)
    path = offer.get_absolute_url()
    return render(
        request,
        "coaching/offer.html",
        {
            "offer": offer,
            "testimonials": list(offer.testimonials.published()),
            "share": seo.share(title=offer.title, description=offer.summary, path=path),
            "structured_data": seo.json_ld(
                seo.breadcrumbs([("Home", "/"), ("Coaching", "/coaching/"), (offer.title, path)])
            ),
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
