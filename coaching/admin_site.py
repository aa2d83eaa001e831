"""The coach's admin site: unfold's, with the app list built once per request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from unfold.sites import UnfoldAdminSite


class CoachingAdminSite(UnfoldAdminSite):
    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        """Every page asks twice (Django's `available_apps`, then the sidebar in
        clients/admin_nav.py), and each build checks permissions and reverses two
        URLs for each of some 40 models: a fifth of a contact page's time."""
        if app_label is not None:
            return super().get_app_list(request, app_label)
        built = getattr(request, "_coaching_app_list", None)
        if built is None:
            built = super().get_app_list(request)
            request._coaching_app_list = built  # type: ignore[attr-defined]
        return built
