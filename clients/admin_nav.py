"""The unfold sidebar: the coach's workspace pages first, then every app as before.

settings.UNFOLD["SIDEBAR"]["navigation"] names `sidebar`; unfold replaces its
default app list with whatever this returns, so the app list is rebuilt here
from `admin.site.get_app_list` (same models, same permissions).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse


def sidebar(request: HttpRequest) -> list[dict[str, Any]]:
    workspace: dict[str, Any] = {
        "title": "Workspace",
        "items": [
            {"title": "Dashboard", "icon": "dashboard", "link": reverse("admin:index")},
            {"title": "Pipeline board", "icon": "view_kanban",
             "link": reverse("admin:clients_contact_board")},
            {"title": "Contacts", "icon": "group",
             "link": reverse("admin:clients_contact_changelist")},
            {"title": "Bookings calendar", "icon": "calendar_month",
             "link": "/admin/bookings/booking/calendar/"},
            {"title": "Results", "icon": "trending_up",
             "link": reverse("admin:clients_outcome_results")},
        ],
    }  # fmt: skip
    groups: list[dict[str, Any]] = [workspace]
    for app in admin.site.get_app_list(request):
        items = [
            {"title": model["name"], "link": model["admin_url"]}
            for model in app["models"]
            if model.get("admin_url")
        ]
        if items:
            groups.append({"title": app["name"], "items": items})
    # Every key unfold's sidebar template asks for, present: a missing one costs
    # the template engine an exception, and some 40 items ask five each.
    for group in groups:
        group.update(collapsible=False, separator=False)
        for item in group["items"]:
            item.setdefault("icon", None)
            item.update(icon_template=None, link_callback=None, link_attrs=None)
    return groups
