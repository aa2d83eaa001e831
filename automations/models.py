"""Follow-up rules the coach writes (when, wait, if, then) and one row per run.

A run is keyed by (rule, contact, trigger key): the database, not a worker's
memory, decides that a rule fires once per person and trigger. A run is made
when its trigger is seen (a signal, or beat's scan), waits in the table until
it is due, and is done by beat, which checks the trigger and the condition
again at that moment (automations/services.py).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Rule(models.Model):
    class Trigger(models.TextChoices):
        PURCHASE = "purchase", "Bought a product"
        PACKAGE_75 = "package_75", "Used 75% of a package's sessions"
        PACKAGE_FINISHED = "package_finished", "Finished a package"
        NO_SHOW = "no_show", "Missed a call (no-show)"
        DISCOVERY_NO_PURCHASE = "discovery_no_purchase", "Discovery call, no purchase after N days"
        INACTIVE = "inactive", "Newsletter subscriber inactive for N days"
        OFFER = "offer", "Recorded a job offer"

    class Action(models.TextChoices):
        EMAIL = "email", "Send an email"
        TASK = "task", "Create a task for me"
        STAGE = "stage", "Move to a pipeline stage"
        LIST_ADD = "list_add", "Add to a newsletter list"
        LIST_REMOVE = "list_remove", "Remove from a newsletter list"

    # Triggers whose "N days" is part of the trigger itself, with their default.
    DAYS_TRIGGERS = {Trigger.DISCOVERY_NO_PURCHASE: 7, Trigger.INACTIVE: 90}

    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    trigger = models.CharField(max_length=24, choices=Trigger.choices)
    product = models.ForeignKey(
        "store.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For a purchase or a package: only this product (empty: any).",
    )
    trigger_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="N for 'no purchase after N days' (default 7) and 'inactive for N days' "
        "(default 90).",
    )
    delay_hours = models.PositiveIntegerField(
        default=0, help_text="Wait this long after the trigger (24 = a day, 168 = a week)."
    )
    local_hour = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(23)],
        help_text="Then wait for this hour (0-23) in the person's time zone. Empty: at once.",
    )
    condition = models.JSONField(
        default=dict,
        blank=True,
        help_text="Only people who match these filters when the step is due.",
    )
    action = models.CharField(max_length=12, choices=Action.choices)
    email_subject = models.CharField(max_length=200, blank=True)
    email_body = models.TextField(blank=True, help_text="Markdown.")
    task_title = models.CharField(max_length=200, blank=True)
    task_due_days = models.PositiveIntegerField(
        default=0, help_text="The task is due this many days after the step runs."
    )
    stage = models.ForeignKey(
        "clients.Stage", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    mailing_list = models.ForeignKey(
        "newsletter.MailingList",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Only what happens from this moment on fires the rule: a new rule never reaches
    # back to every buyer of the last five years.
    active_since = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        needs: dict[str, tuple[str, ...]] = {
            self.Action.EMAIL: ("email_subject", "email_body"),
            self.Action.TASK: ("task_title",),
            self.Action.STAGE: ("stage",),
            self.Action.LIST_ADD: ("mailing_list",),
            self.Action.LIST_REMOVE: ("mailing_list",),
        }
        errors = {
            name: "Needed for this action."
            for name in needs.get(self.action, ())
            if not getattr(self, name if name not in {"stage", "mailing_list"} else f"{name}_id")
        }
        if self.product_id and self.trigger not in {
            self.Trigger.PURCHASE,
            self.Trigger.PACKAGE_75,
            self.Trigger.PACKAGE_FINISHED,
        }:
            errors["product"] = "Only a purchase or a package trigger names a product."
        if not isinstance(self.condition, dict):
            errors["condition"] = "A set of filters (name: value)."
        else:
            from automations.conditions import known_names

            unknown = sorted(set(self.condition) - set(known_names()))
            if unknown:
                errors["condition"] = f"Unknown filter: {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)

    @property
    def days(self) -> int:
        if self.trigger_days is not None:
            return self.trigger_days
        return self.DAYS_TRIGGERS.get(self.trigger, 0)  # type: ignore[call-overload]

    @property
    def trigger_text(self) -> str:
        """The trigger as the coach set it: "inactive for 90 days", not "for N days"."""
        return self.get_trigger_display().replace(" N ", f" {self.days} ")

    def due_after(self, occurred_at: dt.datetime, zone_name: str) -> dt.datetime:
        """The trigger's moment plus the wait, then the next `local_hour` in the person's zone."""
        due = occurred_at + dt.timedelta(hours=self.delay_hours)
        if self.local_hour is None:
            return due
        try:
            zone = zoneinfo.ZoneInfo(zone_name) if zone_name else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = None
        zone = zone or zoneinfo.ZoneInfo(settings.COACH_TIME_ZONE)
        local = due.astimezone(zone)
        day = local.date()
        at = dt.datetime.combine(day, dt.time(self.local_hour), tzinfo=zone)
        if at < local:
            at = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(self.local_hour), zone)
        return at


class RunQuerySet(models.QuerySet["Run"]):
    def due(self, now: dt.datetime | None = None) -> RunQuerySet:
        return self.filter(status=Run.Status.PENDING, due_at__lte=now or timezone.now())


class Run(models.Model):
    """One rule for one person and one trigger: pending until due, then done or skipped."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="runs")
    contact = models.ForeignKey(
        "clients.Contact", on_delete=models.CASCADE, related_name="automation_runs"
    )
    trigger_key = models.CharField(
        max_length=120, help_text="What fired it, e.g. order:12 (once per rule and person)."
    )
    source_id = models.BigIntegerField(help_text="The row that fired it (order, booking...).")
    occurred_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-due_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "contact", "trigger_key"], name="automation_run_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="automation_run_due_idx", condition=Q(status="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} for {self.contact_id} ({self.trigger_key}): {self.status}"

    def finish(self, status: str, outcome: str) -> bool:
        """Pending to done, skipped or failed; False when another worker finished it first."""
        now = timezone.now()
        changed = Run.objects.filter(pk=self.pk, status=self.Status.PENDING).update(
            status=status, outcome=outcome[:300], finished_at=now
        )
        if changed:
            self.status, self.outcome, self.finished_at = status, outcome[:300], now
        return bool(changed)

    def postpone(self, error: str, *, until: dt.datetime, give_up: bool) -> None:
        fields: dict[str, Any] = {"attempts": models.F("attempts") + 1, "outcome": error[:300]}
        if give_up:
            fields.update(status=self.Status.FAILED, finished_at=timezone.now())
        else:
            fields["due_at"] = until
        Run.objects.filter(pk=self.pk, status=self.Status.PENDING).update(**fields)
