from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from guides.access import can_view
from guides.models import Category, Guide


@require_GET
def hub(request: HttpRequest) -> HttpResponse:
    guides = Guide.objects.listed().order_by("category__position", "-published_at")
    categories = Category.objects.all()
    return render(request, "guides/hub.html", {"guides": guides, "categories": categories})


@require_GET
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    guide = get_object_or_404(Guide.objects.published().select_related("category"), slug=slug)
    return render(
        request,
        "guides/detail.html",
        {"guide": guide, "can_read": can_view(request.user, guide)},
    )
