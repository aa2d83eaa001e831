from celery import shared_task

from guides.services import publish_due_guides


@shared_task
def publish_scheduled_guides() -> int:
    """Beat runs this every minute: scheduled guides go live on time."""
    return len(publish_due_guides())


@shared_task
def embed_guide(guide_id: int) -> int:
    """Embed a guide's passages for semantic search after its text changed (on save)."""
    from guides.semantic import embed_guide_passages

    return embed_guide_passages(guide_id)


@shared_task
def embed_stale_guides() -> int:
    """Beat: embed guides whose task was lost (broker down at save), a batch at a time."""
    from guides.semantic import embed_guide_passages, stale_guide_ids

    return sum(1 for pk in stale_guide_ids() if embed_guide_passages(pk))
