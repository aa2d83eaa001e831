"""Beat's work for the workspace: task reminders, dashboard figures, newsletter timeline,
and the privacy retention rules."""

from __future__ import annotations

from celery import shared_task


@shared_task
def remind_due_tasks() -> int:
    from clients.emails import send_task_reminders

    return send_task_reminders()


@shared_task
def refresh_dashboard() -> bool:
    from clients.dashboard import refresh

    refresh()
    return True


@shared_task
def sync_newsletter_timeline() -> int:
    from clients.timeline import sync_newsletter

    return sync_newsletter()


@shared_task
def expire_engagements_task() -> int:
    from clients.services import expire_engagements as expire

    return expire()


@shared_task
def apply_retention_task() -> dict[str, int]:
    """Daily: clear what has been kept long enough. Safe to run twice (plain updates)."""
    from clients.privacy import apply_retention as apply

    return apply()
