"""Celery tasks: thin wrappers that take ids and are safe to run twice."""

from __future__ import annotations

from celery import shared_task

from coaching.tasks import enqueue


@shared_task
def fill_ledger_task(campaign_id: int) -> int:
    from newsletter.models import Campaign
    from newsletter.services import fill_ledger

    campaign = Campaign.objects.filter(pk=campaign_id).first()
    return fill_ledger(campaign=campaign) if campaign else 0


@shared_task
def send_campaign_task(campaign_id: int) -> dict[str, int | str]:
    """One sender run: bounded in time, then it hands over to a fresh task if work is left."""
    from newsletter.sending import finish_if_done, send_campaign

    outcome = send_campaign(campaign_id)
    if outcome.stopped == "deadline":
        enqueue(send_campaign_task, campaign_id)
    elif outcome.stopped == "empty":
        finish_if_done(campaign_id)
    return {
        "sent": outcome.sent,
        "failed": outcome.failed,
        "skipped": outcome.skipped,
        "retried": outcome.retried,
        "stopped": outcome.stopped,
    }


@shared_task
def dispatch_due_campaigns() -> dict[str, int]:
    from newsletter.services import dispatch_due

    return dispatch_due()


@shared_task
def send_confirmation_reminders_task() -> int:
    from newsletter.services import send_confirmation_reminders as remind

    return remind()


@shared_task
def send_welcome_emails() -> dict[str, int]:
    from newsletter.welcome import send_due_welcome_emails

    return send_due_welcome_emails()


@shared_task
def decide_subject_tests_task() -> list[str]:
    from newsletter.abtest import decide_due_tests

    return decide_due_tests()
