"""The coach's admin site: unfold's, with the app list built once per request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from unfold.sites import UnfoldAdminSite

View = Callable[..., HttpResponse]


def require_permissions(request: HttpRequest, *perms: str) -> None:
    """403 unless the signed-in staff member holds every permission named
    ("app_label.codename"); the staff roles live in coaching/roles.py."""
    if not request.user.has_perms(perms):
        raise PermissionDenied


def permission_required_or_403(*perms: str) -> Callable[[View], View]:
    """For the admin's custom views: being staff is not enough, the view needs the
    model permission of what it changes or shows. Wrap inside `admin_view`, so a
    visitor who is not staff is still sent to sign in rather than shown a 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            require_permissions(request, *perms)
            return view(request, *args, **kwargs)

        # Kept on the view (and copied up by every `wraps` around it) so the access
        # matrix test can find each guarded view and insist it has a row.
        checked.required_permissions = perms  # type: ignore[attr-defined]
        return checked

    return decorate


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
