from celery import shared_task

from guides.services import publish_due_guides


@shared_task
def publish_scheduled_guides() -> int:
    """Beat runs this every minute: scheduled guides go live on time."""
    return len(publish_due_guides())
