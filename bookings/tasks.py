"""Beat tasks: reminders from due rows and the hold sweeper. Both are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from bookings import services


@shared_task
def send_due_reminders() -> int:
    return services.send_due_reminders()


@shared_task
def expire_holds() -> int:
    return services.expire_holds()
