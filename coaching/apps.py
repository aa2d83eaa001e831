from typing import Any

from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save


def _site_content_changed(**kwargs: Any) -> None:
    from coaching.pagecache import bump_version

    transaction.on_commit(bump_version)


class CoachingConfig(AppConfig):
    name = "coaching"
    verbose_name = "Site"

    def ready(self) -> None:
        # Imported for their receivers: sign-in events, and dropping a changed
        # account's cached snapshot.
        from coaching import accounts, sessions  # noqa: F401
        from coaching.checks import refuse_unsafe_production
        from coaching.models import CoachingOffer, CoachProfile, MenuItem, Page, Testimonial
        from coaching.roles import sync_roles_after_migrate

        # Importing coaching.checks also registers its deploy checks.
        refuse_unsafe_production()
        # The home, about, coaching and the coach's own pages are cached for visitors,
        # and every cached page carries the menus.
        for model in (CoachProfile, Testimonial, CoachingOffer, Page, MenuItem):
            post_save.connect(_site_content_changed, sender=model, dispatch_uid=f"s-{model}")
            post_delete.connect(_site_content_changed, sender=model, dispatch_uid=f"d-{model}")
        # The staff groups (coaching/roles.py) follow the code after every migrate.
        post_migrate.connect(sync_roles_after_migrate, sender=self, dispatch_uid="sync-roles")


class CoachingAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the coach's site (coaching/admin_site.py) as admin.site."""

    default = False  # CoachingConfig stays this module's config for the "coaching" app
    default_site = "coaching.admin_site.CoachingAdminSite"
