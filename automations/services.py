"""Follow-ups at work: making runs when a trigger is seen, doing them when due, the dry run.

Making a run is an INSERT ... ON CONFLICT DO NOTHING on (rule, contact, trigger
key): a signal and beat's scan, two scans side by side, or a scan repeated after
a worker restart all make one row. Doing a run locks its row (`FOR UPDATE SKIP
LOCKED`), checks again that the trigger still holds and that the person still
matches the condition, and does the action and marks the row in one transaction:
an email goes into the outbox (coaching/emails.py) under the run's own key, so a
run is done once or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from automations import conditions, triggers
from automations.emails import follow_up_email
from automations.models import Rule, Run
from clients import timeline
from clients.models import Contact, Task
from newsletter.models import Subscriber, Subscription, Suppression

log = logging.getLogger(__name__)

RETRY_MINUTES = 15
MAX_ATTEMPTS = 3
# How far back beat's scan looks for triggers. Signals catch events as they happen;
# the scan is the net for a failed receiver (or a worker down for days) and the
# source of time-based triggers, so a month is plenty, and it keeps each scan's
# work bounded by a month of events instead of growing with the rule's age.
SCAN_DAYS = 30


def schedule_runs(
    *,
    rule: Rule,
    now: dt.datetime | None = None,
    source_id: int | None = None,
    since: dt.datetime | None = None,
) -> int:
    """Runs for everyone the rule's trigger finds (or for one source row); returns how many new."""
    now = now or timezone.now()
    rows = [
        Run(
            rule=rule,
            contact_id=item.contact_id,
            trigger_key=item.key,
            source_id=item.source_id,
            occurred_at=item.occurred_at,
            due_at=rule.due_after(item.occurred_at, item.zone),
        )
        for item in triggers.found(rule, now, source_id=source_id, since=since)
    ]
    if not rows:
        return 0
    # ON CONFLICT DO NOTHING returns no ids: the number added is read around it (a report
    # figure only; the unique key is what keeps a run single).
    before = Run.objects.filter(rule=rule).count()
    Run.objects.bulk_create(rows, ignore_conflicts=True)
    return Run.objects.filter(rule=rule).count() - before


def on_source_changed(*, label: str, source_id: int) -> int:
    """A signal saw a row change: runs for the active rules it may fire."""
    kinds = triggers.SOURCES.get(label, ())
    made = 0
    for rule in Rule.objects.filter(is_active=True, trigger__in=kinds):
        made += schedule_runs(rule=rule, source_id=source_id)
    return made


def scan(*, now: dt.datetime | None = None) -> int:
    """Beat: every active rule against every source (time-based triggers come only from here)."""
    now = now or timezone.now()
    since = now - dt.timedelta(days=SCAN_DAYS)
    return sum(
        schedule_runs(rule=rule, now=now, since=since)
        for rule in Rule.objects.filter(is_active=True)
    )


def run_due(*, now: dt.datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Beat: do the runs that are due, each in its own transaction."""
    now = now or timezone.now()
    counts = {"done": 0, "skipped": 0, "failed": 0, "retry": 0}
    for run_id in (
        Run.objects.due(now).order_by("due_at", "pk").values_list("pk", flat=True)[:limit]
    ):
        result = run_one(run_id=run_id, now=now)
        if result:
            counts[result] += 1
    return counts


def run_one(*, run_id: int, now: dt.datetime | None = None) -> str:
    now = now or timezone.now()
    try:
        with transaction.atomic():
            run = (
                Run.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("rule", "contact")
                .filter(pk=run_id)
                .due(now)
                .first()
            )
            if run is None:
                return ""  # another worker has it, or it is done
            status, outcome = _decide_and_act(run, now)
            run.finish(status, outcome)
            _record_on_timeline(run)
            return "done" if status == Run.Status.DONE else "skipped"
    except Exception as error:  # noqa: BLE001 - the run is kept and retried, then failed
        log.exception("automation run %s failed", run_id)
        failed = Run.objects.filter(pk=run_id).first()
        if failed is None:
            return ""
        give_up = failed.attempts + 1 >= MAX_ATTEMPTS
        failed.postpone(
            f"{type(error).__name__}: {error}",
            until=now + dt.timedelta(minutes=RETRY_MINUTES),
            give_up=give_up,
        )
        return "failed" if give_up else "retry"


def _decide_and_act(run: Run, now: dt.datetime) -> tuple[str, str]:
    rule = run.rule
    if not rule.is_active:
        return Run.Status.SKIPPED, "The rule was switched off."
    if not triggers.still_holds(
        rule, contact_id=run.contact_id, key=run.trigger_key, source_id=run.source_id, now=now
    ):
        return Run.Status.SKIPPED, "The trigger no longer holds (refunded, bought, came back...)."
    if not conditions.matches(run.contact, rule.condition):
        return Run.Status.SKIPPED, "No longer matches the rule's condition."
    return ACTIONS[Rule.Action(rule.action)](run, now)


# --- Actions ------------------------------------------------------------------------


def _send_email(run: Run, now: dt.datetime) -> tuple[str, str]:
    if Suppression.objects.covers(run.contact.email):
        return Run.Status.SKIPPED, "The address is on the suppression list."
    follow_up_email(run)
    return Run.Status.DONE, f"Email “{run.rule.email_subject}” sent."


def _create_task(run: Run, now: dt.datetime) -> tuple[str, str]:
    rule = run.rule
    today = timezone.localdate(now)
    Task.objects.create(
        contact=run.contact,
        title=rule.task_title,
        due_on=today + dt.timedelta(days=rule.task_due_days),
    )
    return Run.Status.DONE, f"Task “{rule.task_title}” created."


def _move_stage(run: Run, now: dt.datetime) -> tuple[str, str]:
    stage = run.rule.stage
    assert stage is not None  # Rule.clean
    moved = run.contact.move_to(
        stage, automatic=True, reason=f"Follow-up rule “{run.rule.name}”", now=now
    )
    if moved is None:
        return Run.Status.SKIPPED, f"Already at “{stage.name}”."
    return Run.Status.DONE, f"Moved to “{stage.name}”."


def _confirmed_subscriber(contact: Contact) -> Subscriber | None:
    return Subscriber.objects.confirmed().filter(email_lower=contact.email).first()


def _add_to_list(run: Run, now: dt.datetime) -> tuple[str, str]:
    mailing_list = run.rule.mailing_list
    assert mailing_list is not None
    subscriber = _confirmed_subscriber(run.contact)
    # Adding someone who never confirmed would mail a person without their consent.
    if subscriber is None or Suppression.objects.covers(run.contact.email):
        return Run.Status.SKIPPED, "Not a confirmed subscriber: no consent to add to a list."
    subscription, created = Subscription.objects.get_or_create(
        subscriber=subscriber, mailing_list=mailing_list
    )
    if not created and subscription.status == Subscription.Status.SUBSCRIBED:
        return Run.Status.SKIPPED, f"Already on “{mailing_list.name}”."
    if not created:
        subscription.status = Subscription.Status.SUBSCRIBED
        subscription.changed_at = now
        subscription.save(update_fields=["status", "changed_at"])
    return Run.Status.DONE, f"Added to “{mailing_list.name}”."


def _remove_from_list(run: Run, now: dt.datetime) -> tuple[str, str]:
    mailing_list = run.rule.mailing_list
    assert mailing_list is not None
    left = Subscription.objects.filter(
        subscriber__email_lower=run.contact.email,
        mailing_list=mailing_list,
        status=Subscription.Status.SUBSCRIBED,
    ).update(status=Subscription.Status.UNSUBSCRIBED, changed_at=now)
    if not left:
        return Run.Status.SKIPPED, f"Not on “{mailing_list.name}”."
    return Run.Status.DONE, f"Removed from “{mailing_list.name}”."


ACTIONS = {
    Rule.Action.EMAIL: _send_email,
    Rule.Action.TASK: _create_task,
    Rule.Action.STAGE: _move_stage,
    Rule.Action.LIST_ADD: _add_to_list,
    Rule.Action.LIST_REMOVE: _remove_from_list,
}


def _record_on_timeline(run: Run) -> None:
    timeline.record(
        run.contact_id,
        timeline.Event(
            timeline.Kind.AUTOMATION,
            run.finished_at or timezone.now(),
            f"Follow-up “{run.rule.name}”: {run.get_status_display().lower()}",
            "automations.run",
            run.pk,
            detail=run.outcome,
            link=timeline.admin_link(run),
        ),
    )


# --- Dry run -------------------------------------------------------------------------


@dataclass
class DryRunRow:
    contact: Contact
    key: str
    occurred_at: dt.datetime
    due_at: dt.datetime
    matches: bool
    run: Run | None

    @property
    def affected_today(self) -> bool:
        return self.matches and (self.run is None or self.run.status == Run.Status.PENDING)


def dry_run(*, rule: Rule, now: dt.datetime | None = None) -> list[DryRunRow]:
    """Who the rule would reach by the end of today (the coach's day), writing nothing.

    The trigger's query as beat would run it at the day's end, the condition as it
    stands now, and the runs already made, so the coach sees who is new, who is
    waiting and who was done before.
    """
    now = now or timezone.now()
    coach_zone = zoneinfo.ZoneInfo(settings.COACH_TIME_ZONE)
    local = now.astimezone(coach_zone)
    end_of_day = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(), coach_zone)
    candidates = [
        item
        for item in triggers.found(rule, end_of_day)
        if rule.due_after(item.occurred_at, item.zone) < end_of_day
    ]
    contacts = Contact.objects.in_bulk([item.contact_id for item in candidates])
    passing = set(
        conditions.matching(Contact.objects.filter(pk__in=contacts), rule.condition).values_list(
            "pk", flat=True
        )
    )
    runs = {
        (run.contact_id, run.trigger_key): run
        for run in Run.objects.filter(rule=rule, contact_id__in=contacts)
    }
    rows = [
        DryRunRow(
            contact=contacts[item.contact_id],
            key=item.key,
            occurred_at=item.occurred_at,
            due_at=rule.due_after(item.occurred_at, item.zone),
            matches=item.contact_id in passing,
            run=runs.get((item.contact_id, item.key)),
        )
        for item in candidates
    ]
    return sorted(rows, key=lambda row: row.due_at)
