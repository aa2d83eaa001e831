from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet

from coaching.models import CoachingOffer, Page
from guides.models import Guide


class GuideSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self) -> QuerySet[Guide]:
        return Guide.objects.listed().order_by("-published_at")

    def lastmod(self, item: Guide) -> datetime | None:
        return item.updated_at or item.published_at


class PageSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.5

    def items(self) -> list[str]:
        return ["/", "/guides/", "/about/", "/coaching/", "/store/", "/book/", "/contact/"]

    def location(self, item: str) -> str:
        return item


class CoachPageSitemap(Sitemap):
    """The coach's own pages (Speaking, Papers...) and each coaching offer's page."""

    changefreq = "monthly"
    priority = 0.6

    def items(self) -> list[Page | CoachingOffer]:
        # The about page already stands in the fixed list above, whoever writes it.
        pages = list(Page.objects.published().exclude(slug="about").order_by("slug"))
        return [*pages, *CoachingOffer.objects.filter(is_published=True)]

    def location(self, item: Page | CoachingOffer) -> str:
        return item.get_absolute_url()

    def lastmod(self, item: Page | CoachingOffer) -> datetime | None:
        return item.updated_at if isinstance(item, Page) else None
