"""Workflows over guides: saving with a revision, restoring one, scheduled publication."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from coaching.pagecache import bump_version
from guides.models import Guide, GuideRevision


@transaction.atomic
def save_guide(*, guide: Guide, author: Any = None) -> Guide:
    """Save a guide, keeping the text it had before as a revision when the text changed."""
    if guide.pk:
        previous = Guide.objects.select_for_update().filter(pk=guide.pk).first()
        if previous and (
            previous.body != guide.body
            or previous.title != guide.title
            or previous.summary != guide.summary
        ):
            GuideRevision.objects.create(
                guide=previous,
                title=previous.title,
                summary=previous.summary,
                body=previous.body,
                change_note=previous.change_note,
                author=author if getattr(author, "is_authenticated", False) else None,
            )
    guide.save()
    return guide


def restore_revision(*, revision: GuideRevision, author: Any = None) -> Guide:
    guide = revision.guide
    guide.title = revision.title
    guide.summary = revision.summary
    guide.body = revision.body
    guide.change_note = f"Restored the version of {revision.created_at:%d %b %Y %H:%M}"
    return save_guide(guide=guide, author=author)


def publish_due_guides() -> list[int]:
    """Publish every scheduled guide whose time has come; safe to run twice."""
    published: list[int] = []
    for guide_id in Guide.objects.due_for_publication().values_list("pk", flat=True):
        with transaction.atomic():
            guide = Guide.objects.select_for_update(skip_locked=True).filter(pk=guide_id).first()
            if guide is not None and guide.publish():
                published.append(guide.pk)
    if published:
        bump_version()
    return published
