"""Beat's work for follow-ups: find triggers, then do what is due. Both safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task
def scan_rules_task() -> int:
    from automations.services import scan

    return scan()


@shared_task
def run_due_task() -> dict[str, int]:
    from automations.services import run_due

    return run_due()
