"""Contacts, pipelines as data, notes, tasks, engagements with credits, outcomes, timeline.

A contact is one person across every app, keyed by a lower-cased email. The
timeline is denormalised on purpose: one `TimelineEvent` row per thing that
happened, written by signal receivers (clients/receivers.py) and by the
`backfill_timeline` command, so a contact's history is one indexed query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone


class ClientsError(Exception):
    """A state change refused by a guard; the message is shown to the coach."""


# --- Pipelines -------------------------------------------------------------------


class PipelineQuerySet(models.QuerySet["Pipeline"]):
    def default(self) -> Pipeline:
        """The pipeline automation uses; made with its stages on first need."""
        found: Pipeline | None = self.order_by("-is_default", "position", "pk").first()
        if found is None:
            from clients.pipelines import create_default_pipelines

            return create_default_pipelines()
        return found


class Pipeline(models.Model):
    name = models.CharField(max_length=120, unique=True)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(
        default=False, help_text="New contacts and automatic moves use this pipeline."
    )

    objects = PipelineQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    def stage_for(self, role: str) -> Stage | None:
        return self.stages.filter(role=role).first()

    def first_stage(self) -> Stage | None:
        return self.stages.order_by("position", "pk").first()


class Stage(models.Model):
    """A column of a pipeline. Renamed and reordered freely: automation finds it by role."""

    class Outcome(models.TextChoices):
        OPEN = "open", "Open"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Role(models.TextChoices):
        NONE = "", "None"
        LEAD = "lead", "New lead"
        DISCOVERY = "discovery", "Discovery call booked"
        CLIENT = "client", "Bought a package"
        COMPLETED = "completed", "Finished the package"

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=80)
    position = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=4, choices=Outcome.choices, default=Outcome.OPEN)
    role = models.CharField(
        max_length=12,
        choices=Role.choices,
        blank=True,
        default="",
        help_text="Where automatic moves land (a discovery call booked, a package bought...).",
    )

    class Meta:
        ordering = ["pipeline", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_name_per_pipeline"),
            models.UniqueConstraint(
                fields=["pipeline", "role"], condition=~Q(role=""), name="stage_role_per_pipeline"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_lost(self) -> bool:
        return self.outcome == self.Outcome.LOST


# --- Contacts --------------------------------------------------------------------


class Source(models.TextChoices):
    GUIDE = "guide", "Guide"
    NEWSLETTER = "newsletter", "Newsletter"
    REFERRAL = "referral", "Referral"
    BOOKING = "booking", "Booking"
    PURCHASE = "purchase", "Purchase"
    ACCOUNT = "account", "Account sign-up"
    IMPORT = "import", "Import"
    CONTACT_FORM = "contact", "Contact form"
    OTHER = "other", "Other"


class ContactQuerySet(models.QuerySet["Contact"]):
    def for_email(self, email: str) -> Contact | None:
        return self.filter(email=email.strip().lower()).first()

    def for_user(self, user: Any) -> Contact | None:
        if user is None or not user.is_authenticated:
            return None
        return self.filter(Q(user=user) | Q(email=user.email.lower())).order_by("pk").first()


class Contact(models.Model):
    email = models.EmailField(unique=True, help_text="Stored lower-cased.")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client_contact",
    )
    name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    company = models.CharField(max_length=150, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, blank=True, default="")
    source_detail = models.CharField(
        max_length=200, blank=True, help_text="Which guide, who referred them, which file..."
    )
    pipeline = models.ForeignKey(
        Pipeline, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="contacts"
    )
    stage_changed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-last_activity_at", "-pk"]
        # Staff roles (coaching/roles.py): the Assistant works with contacts but
        # does not take every client's, buyer's or subscriber's details away in a file.
        # The privacy export (one person's data, clients/privacy.py) is its own right.
        permissions = [
            ("export_contacts", "Can export contacts, orders and subscribers"),
            ("export_contact", "Can export everything held about a contact"),
        ]
        indexes = [
            models.Index(fields=["-last_activity_at", "-id"], name="contact_recent_idx"),
            models.Index(fields=["stage", "-stage_changed_at"], name="contact_stage_idx"),
            models.Index(fields=["created_at"], name="contact_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(email=models.functions.Lower("email")), name="contact_email_lower"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email

    def clean(self) -> None:
        # Before the constraint checks of a form, so "Ann@Example.com" is accepted.
        self.email = (self.email or "").strip().lower()

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("admin:clients_contact_change", args=[self.pk])

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def set_source(self, source: str, detail: str = "", *, at: datetime | None = None) -> bool:
        """The source of the first act in time sticks: later touches do not rewrite it.

        Acts are not always reported in order: a guest's checkout makes their account
        before the paid order is seen, so an act from before the contact existed
        (`at` earlier than `created_at`) replaces the source and moves the start back.
        """
        earlier = at is not None and at < self.created_at
        if self.source and not earlier:
            return False
        self.source = source
        self.source_detail = detail[:200]
        fields = ["source", "source_detail"]
        if at is not None and earlier:
            self.created_at, fields = at, [*fields, "created_at"]
        self.save(update_fields=fields)
        return True

    def move_to(
        self,
        stage: Stage,
        *,
        by: Any = None,
        reason: str = "",
        automatic: bool = False,
        now: datetime | None = None,
    ) -> StageChange | None:
        """Move to a stage and record it. None when already there; a lost stage needs a reason."""
        reason = reason.strip()
        if stage.pk == self.stage_id:
            return None
        if stage.is_lost and not reason:
            raise ClientsError(f"Moving to “{stage.name}” needs a reason.")
        now = now or timezone.now()
        previous_id = self.stage_id
        self.pipeline_id = stage.pipeline_id
        self.stage = stage
        self.stage_changed_at = now
        self.lost_reason = reason if stage.is_lost else ""
        self.last_activity_at = now
        with transaction.atomic():
            self.save(
                update_fields=[
                    "pipeline",
                    "stage",
                    "stage_changed_at",
                    "lost_reason",
                    "last_activity_at",
                ]
            )
            return StageChange.objects.create(
                contact=self,
                from_stage_id=previous_id,
                to_stage=stage,
                at=now,
                by=by if getattr(by, "is_authenticated", False) else None,
                reason=reason,
                automatic=automatic,
            )

    def touch(self, when: datetime) -> None:
        Contact.objects.filter(pk=self.pk, last_activity_at__lt=when).update(last_activity_at=when)


class StageChange(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    automatic = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["contact", "-at"], name="stagechange_contact_idx")]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.from_stage_id} -> {self.to_stage_id}"


# --- Working with a client ---------------------------------------------------------


class Note(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    is_shared = models.BooleanField(
        default=False, help_text="Shared notes are shown to the client in their portal."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["contact", "-created_at"], name="note_contact_idx")]

    def __str__(self) -> str:
        return self.body[:60]


class TaskQuerySet(models.QuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(done_at__isnull=True)

    def due_for_reminder(self, today: Any) -> TaskQuerySet:
        return self.open().filter(due_on__lte=today, reminded_on__isnull=True)


class Task(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["done_at", "due_on", "pk"]
        indexes = [
            models.Index(
                fields=["due_on"], name="task_open_due_idx", condition=Q(done_at__isnull=True)
            ),
            models.Index(fields=["contact", "done_at"], name="task_contact_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def complete(self) -> bool:
        if self.done_at is not None:
            return False
        self.done_at = timezone.now()
        self.save(update_fields=["done_at"])
        return True


class Engagement(models.Model):
    """A coaching package's credits. Always total = used + left + expired.

    Credit changes are conditional UPDATEs, so two clicks or two workers can
    never push `used` below zero or above what is left; a check constraint
    holds the same line in the database.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="engagements")
    title = models.CharField(max_length=200)
    credit_grant = models.OneToOneField(
        "store.CreditGrant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="engagement",
    )
    credits_total = models.PositiveIntegerField()
    credits_used = models.PositiveIntegerField(default=0)
    credits_expired = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    no_show_uses_credit = models.BooleanField(default=True)
    late_cancel_uses_credit = models.BooleanField(default=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credits_used__lte=F("credits_total") - F("credits_expired")),
                name="engagement_credits_add_up",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.credits_left}/{self.credits_total} left)"

    @property
    def credits_left(self) -> int:
        return self.credits_total - self.credits_used - self.credits_expired

    def uses_credit_for(self, outcome: str) -> bool:
        if outcome == Session.Outcome.COMPLETED:
            return True
        if outcome == Session.Outcome.NO_SHOW:
            return self.no_show_uses_credit
        if outcome == Session.Outcome.LATE_CANCEL:
            return self.late_cancel_uses_credit
        return False

    def _change(
        self, delta: int, guard: Q, *, kind: str, reason: str, by: Any, ref: str, mirror: bool
    ) -> bool:
        with transaction.atomic():
            changed = Engagement.objects.filter(guard, pk=self.pk).update(
                credits_used=F("credits_used") + delta
            )
            if not changed:
                return False
            CreditAdjustment.objects.create(
                engagement=self,
                change=-delta,
                kind=kind,
                reason=reason[:300],
                reference=ref[:100],
                by=by if getattr(by, "is_authenticated", False) else None,
            )
            self.refresh_from_db(fields=["credits_used", "credits_expired"])
            # The store's grant shows the same balance in the client's library, unless
            # the change already happened there (a package session booked online is
            # charged to the grant by bookings when it is confirmed).
            if mirror and self.credit_grant_id:
                from store.models import CreditGrant

                grant = CreditGrant.objects.filter(pk=self.credit_grant_id).first()
                if grant is not None:
                    change_grant = grant.use_one if delta > 0 else grant.give_back
                    change_grant(reason=f"clients: {reason}"[:200], reference=ref)
        return True

    def use_credit(
        self, *, reason: str, by: Any = None, reference: str = "", mirror: bool = True
    ) -> bool:
        """Spend one credit; False when none is left or the package has expired."""
        guard = Q(credits_used__lt=F("credits_total") - F("credits_expired")) & (
            Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
        )
        return self._change(
            1,
            guard,
            kind=CreditAdjustment.Kind.USE,
            reason=reason,
            by=by,
            ref=reference,
            mirror=mirror,
        )

    def give_back_credit(
        self, *, reason: str, by: Any = None, reference: str = "", mirror: bool = True
    ) -> bool:
        """Return one used credit, with a reason; False when none was used."""
        if not reason.strip():
            raise ClientsError("Giving a credit back needs a reason.")
        return self._change(
            -1,
            Q(credits_used__gt=0),
            kind=CreditAdjustment.Kind.GIVE_BACK,
            reason=reason,
            by=by,
            ref=reference,
            mirror=mirror,
        )

    def expire_unused(self, *, now: datetime | None = None) -> int:
        """Past the expiry date, what is left becomes expired (never lost: still counted)."""
        now = now or timezone.now()
        with transaction.atomic():
            row = (
                Engagement.objects.select_for_update()
                .filter(pk=self.pk, expires_at__lte=now)
                .first()
            )
            if row is None or row.credits_left <= 0:
                return 0
            left = row.credits_left
            Engagement.objects.filter(pk=self.pk).update(
                credits_expired=F("credits_expired") + left
            )
            CreditAdjustment.objects.create(
                engagement=self, change=-left, kind=CreditAdjustment.Kind.EXPIRE, reason="Expired"
            )
        self.refresh_from_db(fields=["credits_used", "credits_expired"])
        return left

    def mark_completed(self) -> bool:
        if self.status != self.Status.ACTIVE:
            return False
        self.status = self.Status.COMPLETED
        self.save(update_fields=["status"])
        return True


class CreditAdjustment(models.Model):
    """The ledger of an engagement's credits: every use, give-back and expiry."""

    class Kind(models.TextChoices):
        USE = "use", "Used"
        GIVE_BACK = "give_back", "Given back"
        EXPIRE = "expire", "Expired"

    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="adjustments")
    change = models.SmallIntegerField(help_text="Credits left: -1 used, +1 given back.")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.CharField(max_length=300, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.change:+d} {self.get_kind_display()}: {self.reason}"


class Session(models.Model):
    """One coaching session of an engagement, usually a booking, with its outcome."""

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        NO_SHOW = "no_show", "No-show"
        LATE_CANCEL = "late_cancel", "Late cancellation"
        CANCELLED = "cancelled", "Cancelled"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="sessions")
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    booking = models.OneToOneField(
        "bookings.Booking",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="client_session",
    )
    starts_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.SCHEDULED)
    used_credit = models.BooleanField(default=False)

    class Meta:
        ordering = ["-starts_at", "-pk"]

    def __str__(self) -> str:
        return f"Session {self.starts_at:%Y-%m-%d} ({self.get_outcome_display()})"


class OutcomeQuerySet(models.QuerySet["Outcome"]):
    def offers(self) -> OutcomeQuerySet:
        return self.filter(kind=Outcome.Kind.OFFER)

    def with_first_call(self) -> OutcomeQuerySet:
        """`first_call_at`: the contact's first call that took place (or was confirmed),
        the start of the clock for "time to offer"."""
        from bookings.models import Booking

        first = (
            Booking.objects.filter(
                email__iexact=models.OuterRef("contact__email"),
                status__in=[Booking.Status.CONFIRMED, Booking.Status.COMPLETED],
            )
            .order_by("start")
            .values("start")[:1]
        )
        return self.annotate(first_call_at=models.Subquery(first))


class Outcome(models.Model):
    class Kind(models.TextChoices):
        GOAL = "goal", "Goal"
        APPLICATION = "application", "Application"
        INTERVIEW = "interview", "Interview"
        OFFER = "offer", "Offer"

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="outcomes")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    company = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=150, blank=True)
    level = models.CharField(max_length=60, blank=True)
    compensation_band = models.CharField(max_length=80, blank=True, help_text="e.g. £90–110k")
    # An offer's figures, per year in whole units of `currency`: the results
    # dashboard and /results/ are computed from these, never from the band text.
    currency = models.CharField(max_length=3, default="GBP")
    base_salary = models.PositiveIntegerField("base", null=True, blank=True)
    bonus = models.PositiveIntegerField(null=True, blank=True)
    equity = models.PositiveIntegerField(null=True, blank=True, help_text="Per year.")
    total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: base + bonus + equity."
    )
    before_role = models.CharField("role before", max_length=150, blank=True)
    before_salary = models.PositiveIntegerField(
        "salary before", null=True, blank=True, help_text="Total per year, same currency."
    )
    engagement = models.ForeignKey(
        "Engagement",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="outcomes",
        help_text="The package the client was on (the results dashboard filters by it).",
    )
    service = models.ForeignKey(
        "coaching.CoachingOffer",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="client_outcomes",
        help_text="The service page a published result shows on.",
    )
    occurred_on = models.DateField(default=timezone.localdate)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        indexes = [models.Index(fields=["kind", "-occurred_on"], name="outcome_kind_idx")]

    def __str__(self) -> str:
        bits = [self.get_kind_display(), self.role, self.company]
        return " · ".join(bit for bit in bits if bit)

    def save(self, *args: Any, **kwargs: Any) -> None:
        parts = [self.base_salary, self.bonus, self.equity]
        if self.total is None and any(part is not None for part in parts):
            self.total = sum(part or 0 for part in parts)
        super().save(*args, **kwargs)

    @property
    def uplift_percent(self) -> float | None:
        """How much more the offer pays than the situation before, in per cent."""
        if not self.total or not self.before_salary:
            return None
        return (self.total - self.before_salary) * 100 / self.before_salary


# --- Timeline ------------------------------------------------------------------------


class TimelineEvent(models.Model):
    """One row per event of a contact's history; `(source_type, source_id, kind)` is unique
    so that receivers and the backfill can both write without duplicates."""

    class Kind(models.TextChoices):
        ACCOUNT = "account", "Account"
        GUIDE_VIEW = "guide_view", "Read a guide"
        PURCHASE = "purchase", "Purchase"
        REFUND = "refund", "Refund"
        BOOKING = "booking", "Booking"
        BOOKING_OUTCOME = "booking_outcome", "Call outcome"
        BOOKING_CANCELLED = "booking_cancelled", "Booking cancelled"
        BOOKING_MOVED = "booking_moved", "Booking moved"
        SUBSCRIBED = "subscribed", "Subscribed"
        NEWSLETTER = "newsletter", "Newsletter sent"
        CLICK = "click", "Newsletter click"
        NOTE = "note", "Note"
        STAGE = "stage", "Stage change"
        TASK = "task", "Task"
        OUTCOME = "outcome", "Career outcome"
        ENGAGEMENT = "engagement", "Engagement"
        CREDIT = "credit", "Credits"
        COMMENT = "comment", "Comment"
        AUTOMATION = "automation", "Follow-up"

    # Events about money: staff without the money permission (coaching/roles.py) skip them.
    MONEY_KINDS = (Kind.PURCHASE, Kind.REFUND, Kind.CREDIT)

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="timeline")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    title = models.CharField(max_length=200)
    detail = models.CharField(max_length=300, blank=True)
    link = models.CharField(max_length=300, blank=True)
    source_type = models.CharField(max_length=40)
    source_id = models.BigIntegerField()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(
                "contact", F("occurred_at").desc(), F("id").desc(), name="timeline_contact_idx"
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "kind"], name="timeline_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d} {self.title}"


# Testimonial requests live in their own module; importing them here is how Django finds them.
from clients.testimonials import TestimonialRequest  # noqa: E402

__all__ = ["TestimonialRequest"]
