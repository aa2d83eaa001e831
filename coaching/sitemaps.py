"""The site's own pages in /sitemap.xml; each app lists its own (guides.sitemaps)."""

from datetime import datetime

from django.contrib.sitemaps import Sitemap

from coaching.models import CoachingOffer, Page


class PageSitemap(Sitemap):
    changefreq = "monthly"
    priority = 0.5

    def items(self) -> list[str]:
        return [
            "/", "/guides/", "/about/", "/coaching/", "/store/", "/book/", "/workshops/",
            "/results/", "/contact/",
        ]  # fmt: skip

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


SITEMAPS: dict[str, type[Sitemap]] = {"pages": PageSitemap, "site": CoachPageSitemap}
