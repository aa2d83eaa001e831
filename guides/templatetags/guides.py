from typing import Any

from django import template

from guides.models import Guide

register = template.Library()


@register.inclusion_tag("guides/_featured.html")
def featured_guides(limit: int = 6) -> dict[str, Any]:
    """The home page's guide section; lives here so the site app needs no guides import."""
    guides = list(Guide.objects.featured()[:limit])
    if not guides:
        guides = list(Guide.objects.listed().order_by("-published_at")[:limit])
    return {"guides": guides}
