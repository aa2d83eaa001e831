"""The workspace's emails to the coach: the digest of follow-up tasks that are due,
and each message sent through the contact form."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from clients.models import Contact, Note, Task
from coaching.emails import queue_email
from coaching.models import CoachProfile, User


def coach_email() -> str:
    profile = CoachProfile.current()
    if profile is not None and profile.email:
        return profile.email
    coach = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    return coach.email if coach else ""


def send_task_reminders() -> int:
    """Claim every due task not reminded today and send one digest. Safe to run twice:
    the claim is a conditional update and the email key names the tasks."""
    today = timezone.localdate()
    to = coach_email()
    if not to:
        return 0
    with transaction.atomic():
        ids = list(
            Task.objects.due_for_reminder(today)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:200]
        )
        if not ids:
            return 0
        Task.objects.filter(pk__in=ids, reminded_on__isnull=True).update(reminded_on=today)
        tasks = list(Task.objects.filter(pk__in=ids).select_related("contact").order_by("due_on"))
        items = [
            {
                "task": task,
                "overdue": task.due_on < today,
                "url": settings.SITE_URL
                + reverse("admin:clients_contact_change", args=[task.contact_id]),
            }
            for task in tasks
        ]
        queue_email(
            key=f"clients-tasks-{today:%Y%m%d}-{min(ids)}-{len(ids)}",
            to=to,
            template="clients-tasks-due",
            context={"items": items, "today": today},
        )
    return len(ids)


def send_contact_notice(
    *, contact: Contact, note: Note, task: Task, topic: str, message: str
) -> None:
    """The coach hears of a contact-form message at once; replying is one click away."""
    to = coach_email()
    if not to:
        return
    queue_email(
        key=f"clients-contact-{note.pk}",
        to=to,
        template="clients-contact-message",
        context={
            "contact": contact,
            "topic": topic,
            "message": message,
            "due_on": task.due_on,
            "url": settings.SITE_URL + reverse("admin:clients_contact_change", args=[contact.pk]),
        },
        headers={"Reply-To": contact.email},
    )
