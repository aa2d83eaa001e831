from datetime import datetime

from django.contrib.sitemaps import Sitemap
from django.db.models import QuerySet

from guides.models import Guide


class GuideSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self) -> QuerySet[Guide]:
        return Guide.objects.listed().order_by("-published_at")

    def lastmod(self, item: Guide) -> datetime | None:
        return item.updated_at or item.published_at


# What this app adds to /sitemap.xml (coaching/urls.py joins every app's).
SITEMAPS: dict[str, type[Sitemap]] = {"guides": GuideSitemap}
