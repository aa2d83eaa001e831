from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save


def _content_changed(**kwargs: Any) -> None:
    """Any change to guides, categories or roles makes cached pages stale at once."""
    from coaching.pagecache import bump_version

    transaction.on_commit(bump_version)


class GuidesConfig(AppConfig):
    name = "guides"

    def ready(self) -> None:
        from guides.models import Category, Guide, Role

        for model in (Guide, Category, Role):
            post_save.connect(_content_changed, sender=model, dispatch_uid=f"stale-{model}")
            post_delete.connect(_content_changed, sender=model, dispatch_uid=f"del-{model}")
        m2m_changed.connect(_content_changed, sender=Guide.roles.through, dispatch_uid="roles")
