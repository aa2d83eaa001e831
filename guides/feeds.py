"""RSS 2.0 and Atom feeds of guides. Gated guides carry their public preview only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed

from guides.models import Category, Guide

FEED_SIZE = 30


class GuidesRssFeed(Feed):
    description = "New and updated guides on AI roles, interviews and career strategy."

    def title(self, obj: Category | None = None) -> str:
        if obj is not None:
            return f"{settings.SITE_NAME}: {obj.name}"
        return f"{settings.SITE_NAME}: guides"

    def link(self, obj: Category | None = None) -> str:
        return obj.get_absolute_url() if obj is not None else "/guides/"

    def items(self, obj: Category | None = None) -> QuerySet[Guide]:
        guides = Guide.objects.published().select_related("category")
        if obj is not None:
            guides = guides.filter(category=obj)
        return guides.order_by("-published_at").defer(
            "body", "body_html", "toc", "search_vector", "full_search_vector", "body_text"
        )[:FEED_SIZE]

    def item_title(self, item: Guide) -> str:
        return item.title

    def item_description(self, item: Guide) -> str:
        # Feeds are public: every guide shows its preview, never the gated text.
        note = "" if not item.is_gated else "<p><em>Read the full guide on the site.</em></p>"
        return f"<p>{item.summary}</p>{item.preview_html}{note}"

    def item_pubdate(self, item: Guide) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Guide) -> datetime | None:
        return item.updated_at or item.published_at

    def item_categories(self, item: Guide) -> list[str]:
        return [item.category.name]

    def item_guid(self, item: Guide) -> str:
        return f"{settings.SITE_URL}/guides/{item.slug}/"

    item_guid_is_permalink = True


class GuidesAtomFeed(GuidesRssFeed):
    feed_type = Atom1Feed
    subtitle = GuidesRssFeed.description


class CategoryRssFeed(GuidesRssFeed):
    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Category:
        return get_object_or_404(Category, slug=kwargs["category"])


class CategoryAtomFeed(CategoryRssFeed):
    feed_type = Atom1Feed
    subtitle = GuidesRssFeed.description
