from typing import Any

from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete


def _content_changed(**kwargs: Any) -> None:
    """Any change to guides, categories or roles makes cached pages stale at once."""
    from coaching.pagecache import bump_version

    transaction.on_commit(bump_version)


def _guide_deleted(instance: Any, **kwargs: Any) -> None:
    """A deleted guide's words leave the spelling dictionary (read while the row exists)."""
    from guides.search import count_public_words

    count_public_words([instance.pk], sign=-1)


def _guide_address_is_live(view_name: str, kwargs: dict[str, Any], **extra: Any) -> bool:
    """coaching.redirects asks before saving a redirect: a published guide answers here."""
    if view_name != "guides:detail":
        return False
    from guides.models import Guide

    return Guide.objects.published().filter(slug=kwargs.get("slug")).exists()


class GuidesConfig(AppConfig):
    name = "guides"

    def ready(self) -> None:
        from coaching.redirects import address_is_live
        from guides.models import Category, Guide, GuidePart, Placement, Role, Tag

        address_is_live.connect(_guide_address_is_live, dispatch_uid="guide-address")

        for model in (Guide, Category, Role, GuidePart, Tag, Placement):
            post_save.connect(_content_changed, sender=model, dispatch_uid=f"stale-{model}")
            post_delete.connect(_content_changed, sender=model, dispatch_uid=f"del-{model}")
        pre_delete.connect(_guide_deleted, sender=Guide, dispatch_uid="forget-words")
        m2m_changed.connect(_content_changed, sender=Guide.roles.through, dispatch_uid="roles")
        m2m_changed.connect(_content_changed, sender=Guide.tags.through, dispatch_uid="tags")
