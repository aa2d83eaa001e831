from __future__ import annotations

import hashlib
from typing import Any

from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from coaching import seo, throttles
from coaching.covers import cover_response
from coaching.models import CoachProfile
from coaching.pagecache import cache_for_visitors, remember
from guides.access import can_view, paywall_offers
from guides.interactive import contents_with_parts
from guides.models import Category, Guide, GuideView, Role, Tag
from guides.rendering import CTA_PLACEHOLDER
from guides.search import MAX_PAGE, search_guides
from guides.semantic import similar_guides
from guides.structure import hub_sections
from guides.video import embed_for, player_context, video_csp

PAGE_SIZE = 24
SORTS = {"newest": ("-published_at", "title"), "most-read": ("-view_count", "-published_at")}


# Part of the key of a remembered guide: a release that changes the model's fields
# never unpickles a guide stored by the one before.
GUIDE_SHAPE = hashlib.sha1(
    ",".join(f.attname for f in Guide._meta.concrete_fields).encode(), usedforsecurity=False
).hexdigest()[:8]


def _get_published_guide(slug: str) -> Guide:
    """The guide a page shows, remembered per content version (coaching/pagecache.py).

    Loaded as list pages load guides (`listed`: without the Markdown, text, vectors
    or HTML); the article's HTML comes from `article_html`, which loads it only when
    it is not remembered either.
    """
    return remember(
        "guide",
        f"{GUIDE_SHAPE}:{slug}",
        lambda: get_object_or_404(Guide.objects.listed(), slug=slug),
    )


HUB_FILTERS = ("category", "role", "kind", "level", "tag", "sort")


def _filters(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "").strip()[:100] for key in HUB_FILTERS}


@require_GET
@cache_for_visitors(params=(*HUB_FILTERS, "page"), readers=lambda request: "reader")
def hub(request: HttpRequest) -> HttpResponse:
    chosen = _filters(request)
    guides = Guide.objects.listed()
    if chosen["category"]:
        # A section lists the guides placed in it too, not only those it is primary for.
        guides = guides.filter(
            Q(category__slug=chosen["category"]) | Q(placements__category__slug=chosen["category"])
        ).distinct()
    if chosen["role"]:
        guides = guides.filter(roles__slug=chosen["role"])
    if chosen["kind"] in Guide.Kind.values:
        guides = guides.filter(kind=chosen["kind"])
    if chosen["level"] in Guide.Level.values and chosen["level"]:
        guides = guides.filter(level=chosen["level"])
    if chosen["tag"]:
        guides = guides.filter(tags__slug=chosen["tag"])
    sort = chosen["sort"] if chosen["sort"] in SORTS else "newest"
    guides = guides.order_by(*SORTS[sort])
    page = Paginator(guides, PAGE_SIZE).get_page(request.GET.get("page"))
    published = Q(guides__status=Guide.Status.PUBLISHED)
    categories = Category.objects.annotate(count=Count("guides", filter=published))
    roles = Role.objects.annotate(count=Count("guides", filter=published))
    query = {k: v for k, v in chosen.items() if v}
    filtered = any(chosen[k] for k in ("category", "role", "kind", "level", "tag"))
    # The plain hub shows the coach's sections in order; any filter, a sort or a
    # later page shows the flat list.
    arranged = not filtered and not chosen["sort"] and page.number == 1
    return render(
        request,
        "guides/hub.html",
        {
            "page": page,
            "categories": [c for c in categories if c.count],
            "roles": [r for r in roles if r.count],
            "kinds": Guide.Kind.choices,
            "levels": [choice for choice in Guide.Level.choices if choice[0]],
            "chosen": chosen,
            "sort": sort,
            "filtered": filtered,
            # The same for every reader (listed guides only): remembered per version.
            "sections": remember("hub-sections", GUIDE_SHAPE, hub_sections) if arranged else [],
            "active_tag": Tag.objects.filter(slug=chosen["tag"]).first() if chosen["tag"] else None,
            "query_without_page": "&".join(f"{k}={v}" for k, v in query.items()),
            "active_category": next((c for c in categories if c.slug == chosen["category"]), None),
        },
    )


def _body_with_call_to_action(guide: Guide, html: str, request: HttpRequest) -> str:
    cta = render_to_string("guides/_cta.html", {"guide": guide}, request=request)
    if CTA_PLACEHOLDER in html:
        return html.replace(CTA_PLACEHOLDER, cta, 1).replace(CTA_PLACEHOLDER, "")
    return html + cta


def related_guides(guide: Guide) -> list[Guide]:
    """Related guides change only when content does: remembered per content version.

    The nearest guides by meaning (their public passages' embeddings, the same
    for every reader); the same category and roles while the guide has none yet.
    """

    def nearest() -> list[int]:
        return similar_guides(guide) or list(
            Guide.objects.related_to(guide).values_list("pk", flat=True)
        )

    ids = remember("related", str(guide.pk), nearest)
    found = {g.pk: g for g in Guide.objects.listed().filter(pk__in=ids)}
    return [found[pk] for pk in ids if pk in found]


def render_guide_page(request: HttpRequest, guide: Guide, *, can_read: bool) -> HttpResponse:
    """The guide page for a reader who may (or may not) read it all; also the admin preview."""
    response = render(
        request,
        "guides/detail.html",
        {
            "guide": guide,
            "can_read": can_read,
            "article": article_html(request, guide, can_read),
            **sharing(guide),
        },
    )
    embed = embed_for(guide.video_url) if guide.kind == Guide.Kind.VIDEO else None
    if embed is not None:
        # Frames from this video's host, on this page only; the page cache keeps it.
        response._csp_config = video_csp(embed)  # type: ignore[attr-defined]
    return response


def _coach_name() -> str:
    profile = CoachProfile.current()
    return profile.name if profile else ""


def sharing(guide: Guide) -> dict[str, Any]:
    """The guide's link preview, canonical address and JSON-LD (Article, its video,
    breadcrumbs). Only the summary is described: never a gated guide's text."""
    path = guide.get_absolute_url()
    canonical = guide.canonical_url or path
    description = guide.seo_description or guide.summary
    # The coach's own cover only: link previews do not show the drawn SVG stand-in.
    uploaded = guide.uploaded_cover
    image = uploaded.src if uploaded else ""
    author = remember("coach-name", "", _coach_name)
    items = [
        seo.article(
            headline=guide.seo_title or guide.title,
            description=description,
            url=canonical,
            image=image,
            published=guide.published_at,
            modified=guide.last_updated,
            author=author,
        ),
        seo.breadcrumbs(
            [
                ("Guides", "/guides/"),
                (guide.category.name, f"/guides/?category={guide.category.slug}"),
                (guide.title, path),
            ]
        ),
    ]
    if guide.video_url:
        items.append(
            seo.video(
                name=guide.title,
                description=description,
                url=guide.video_url,
                thumbnail=image,
                uploaded=guide.published_at,
            )
        )
    return {
        "share": seo.share(
            title=guide.seo_title or guide.title,
            description=description,
            path=canonical,
            image=image,
            kind="article",
        ),
        "structured_data": seo.json_ld(*items),
    }


def article_html(request: HttpRequest, guide: Guide, can_read: bool) -> str:
    """The article, contents, paywall and related guides: remembered per content version.

    They are the same for every reader with the same access (`can_read`, decided
    per request by guides.access), so a signed-in reader's page costs only its own
    header and tokens. The fragment holds nothing of the reader, and the full text
    is only ever served to a reader `can_view` allowed.
    """

    def render_article() -> str:
        body = guide.body_html if can_read else guide.preview_html
        return render_to_string(
            "guides/_article.html",
            {
                "guide": guide,
                "can_read": can_read,
                "body": mark_safe(  # noqa: S308 - rendered and nh3-sanitised on save
                    _body_with_call_to_action(guide, body, request) if can_read else body
                ),
                "toc": guide.toc if can_read else [],
                "related": related_guides(guide),
                "offers": [] if can_read else paywall_offers(guide),
                **_interactive_context(guide, can_read),
                "video": player_context(guide) if guide.kind == Guide.Kind.VIDEO else None,
            },
        )

    key = f"{guide.pk}:{guide.modified_at.timestamp()}:{int(can_read)}"
    html = remember("article", key, render_article)
    return mark_safe(html)  # noqa: S308 - our own template's output


def _interactive_context(guide: Guide, can_read: bool) -> dict[str, Any]:
    """An interactive guide's parts for a reader; only their titles behind the paywall."""
    if guide.kind != Guide.Kind.INTERACTIVE:
        return {}
    if not can_read:
        return {"part_titles": list(guide.parts.values_list("title", flat=True))}
    parts = list(guide.parts.all())
    # Numbered 1.. in reading order whatever the stored positions are (#part-N, data-part).
    for index, part in enumerate(parts):
        part.number = index + 1  # type: ignore[attr-defined]
        part.previous = parts[index - 1] if index else None  # type: ignore[attr-defined]
        part.next = parts[index + 1] if index + 1 < len(parts) else None  # type: ignore[attr-defined]
    # Built from the parts themselves, so no save of the body alone can leave them out.
    return {"parts": parts, "toc": contents_with_parts(guide.toc, parts)}


def _reading_class(request: HttpRequest, slug: str) -> str:
    """Signed-in readers share a guide's page when they may read the same of it: the
    page shows nothing else of them (coaching/pagecache.py, tier 4)."""
    guide = _get_published_guide(slug)
    return "full" if can_view(request.user, guide, request.session) else "preview"


@require_GET
@cache_for_visitors(readers=_reading_class)
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    guide = _get_published_guide(slug)
    return render_guide_page(
        request, guide, can_read=can_view(request.user, guide, request.session)
    )


@require_GET
def cover(request: HttpRequest, slug: str, digest: str) -> HttpResponse:
    """The cover drawn for a guide without an uploaded one (drafts only for the coach)."""
    drafts = request.user.is_staff and request.user.has_perm("guides.view_guide")
    guides = Guide.objects.all() if drafts else Guide.objects.published()
    guide = get_object_or_404(
        guides.select_related("category").only("title", "category__name"), slug=slug
    )
    return cover_response(guide.category.name, guide.title, digest)


@csrf_exempt
@require_POST
@never_cache
def record_view(request: HttpRequest, slug: str) -> JsonResponse:
    """Counted from the page's script, so cached pages count too and bots mostly do not.

    Nothing identifies an anonymous reader; a signed-in reader's view is kept for
    the coach's timeline of that person.
    """
    wait = throttles.check(request, "view-beacon")
    if wait is not None:
        # Over the limit the view is not counted; the answer is the API's, so a script
        # learns when it may send again.
        return throttles.too_many_json(wait, "Too many views from here.")
    guide = Guide.objects.published().filter(slug=slug).only("pk").first()
    if guide is None:
        raise Http404("No such guide.")
    Guide.objects.filter(pk=guide.pk).update(view_count=F("view_count") + 1)
    user = request.user if request.user.is_authenticated else None
    GuideView.objects.create(guide=guide, user=user)
    return JsonResponse({"counted": True})


@require_GET
@cache_for_visitors(params=("q", "page"))
def search(request: HttpRequest) -> HttpResponse:
    wait = throttles.check(request, "search")
    if wait is not None:
        return throttles.too_many(request, wait, message="Too many searches from here just now.")
    raw = request.GET.get("q", "")
    try:
        page_number = min(MAX_PAGE, max(1, int(request.GET.get("page", "1"))))
    except ValueError:
        page_number = 1
    results = search_guides(
        raw,
        request.user,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
        session=request.session,
    )
    context: dict[str, Any] = {
        "results": results,
        "page_number": page_number,
        "first_rank": (page_number - 1) * PAGE_SIZE + 1,
        "has_next": results.total > page_number * PAGE_SIZE,
        "too_long": len(raw) > len(results.query) and len(" ".join(raw.split())) > 200,
    }
    return render(request, "guides/search.html", context)
