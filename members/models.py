"""Memberships: tiers a reader subscribes to, and each account's membership as Stripe reports it.

The membership row is a copy of Stripe's subscription, kept current by webhook
events (members/events.py) that may arrive in any order and more than once; it
is only ever changed by `Membership.apply`, which refuses a state older than
the one it holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from coaching.money import format_money


class Interval(models.TextChoices):
    MONTH = "month", "Monthly"
    YEAR = "year", "Yearly"


INTERVAL_DAYS = {Interval.MONTH: 30, Interval.YEAR: 365}


class TierQuerySet(models.QuerySet["Tier"]):
    def offered(self) -> TierQuerySet:
        return self.filter(is_active=True).order_by("rank")

    def free(self) -> TierQuerySet:
        return self.filter(monthly_amount__isnull=True, yearly_amount__isnull=True)


class Tier(models.Model):
    """What a member pays and what it unlocks. A tier without prices is free to any account."""

    name = models.CharField(max_length=80)
    slug = models.SlugField(max_length=60, unique=True)
    rank = models.PositiveSmallIntegerField(
        unique=True,
        help_text="Higher tiers include everything lower ones unlock (Free 0, Member 10...).",
    )
    description = models.CharField(max_length=300, blank=True)
    perks = models.TextField(blank=True, help_text="One line each, listed on the pricing page.")
    currency = models.CharField(max_length=3, default="gbp")
    monthly_amount = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minor units (1500 is 15.00). Empty: no monthly plan."
    )
    yearly_amount = models.PositiveIntegerField(
        null=True, blank=True, help_text="Minor units. Empty: no yearly plan."
    )
    trial_days = models.PositiveSmallIntegerField(
        default=0, help_text="Free days before the first payment (once per person)."
    )
    product_discount_percent = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="Taken off store products while the membership gives access.",
    )
    newsletter_lists = models.ManyToManyField(
        "newsletter.MailingList",
        blank=True,
        related_name="member_tiers",
        help_text="Lists members of this tier join (double opt-in for new addresses) "
        "and leave when the membership ends.",
    )
    # Stripe Prices (recurring) for live billing; the simulated provider needs none.
    stripe_monthly_price_id = models.CharField(max_length=100, blank=True)
    stripe_yearly_price_id = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True, help_text="Shown on the pricing page.")

    objects = TierQuerySet.as_manager()

    class Meta:
        ordering = ["rank"]
        constraints = [
            models.CheckConstraint(
                condition=Q(product_discount_percent__lte=100), name="tier_discount_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return self.monthly_amount is None and self.yearly_amount is None

    def amount(self, interval: str) -> int | None:
        return self.monthly_amount if interval == Interval.MONTH else self.yearly_amount

    def price_display(self, interval: str) -> str:
        amount = self.amount(interval)
        return format_money(amount, self.currency, short=True) if amount is not None else ""

    def monthly_display(self) -> str:
        return self.price_display(Interval.MONTH)

    def yearly_display(self) -> str:
        return self.price_display(Interval.YEAR)

    def stripe_price_id(self, interval: str) -> str:
        if interval == Interval.MONTH:
            return self.stripe_monthly_price_id
        return self.stripe_yearly_price_id

    def perk_list(self) -> list[str]:
        return [line.strip() for line in self.perks.splitlines() if line.strip()]

    def plans(self) -> list[tuple[str, str]]:
        """(interval, label) for each interval this tier is sold at."""
        return [(i.value, i.label) for i in Interval if self.amount(i) is not None]


class MembershipSettings(models.Model):
    """The coach's billing rules (one row)."""

    grace_days = models.PositiveSmallIntegerField(
        default=7,
        help_text="Days a member keeps access after a renewal payment fails, while the "
        "card is retried and they are asked to fix it.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "membership settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="membership_settings_one")]

    def __str__(self) -> str:
        return "Membership settings"

    @classmethod
    def current(cls) -> MembershipSettings:
        found, _ = cls.objects.get_or_create(pk=1)
        return found


class Status(models.TextChoices):
    """Stripe's subscription statuses."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


@dataclass(frozen=True, order=True)
class StateKey:
    """How new a subscription state is, compared field by field.

    A later subscription beats an earlier one; within one subscription an
    ended state is final (Stripe never revives a canceled subscription); then a
    later billing period; then the later event. Stripe's `created` has second
    resolution: two events of one subscription in the same second and period
    are applied in arrival order.
    """

    subscription_created: int
    ended: int
    period_start: int
    event_created: int


class MembershipQuerySet(models.QuerySet["Membership"]):
    def with_access(self, now: dt.datetime, grace_days: int) -> MembershipQuerySet:
        """`Membership.gives_access` in SQL, for counts and lists."""
        live = Q(status__in=[Status.ACTIVE, Status.TRIALING]) & (
            Q(cancel_at_period_end=False) | Q(current_period_end__gt=now)
        )
        in_grace = Q(
            status=Status.PAST_DUE, current_period_start__gt=now - dt.timedelta(days=grace_days)
        )
        return self.filter(live | in_grace)


class Membership(models.Model):
    """One account's paid membership, as Stripe last reported it (newest state wins)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="memberships")
    interval = models.CharField(max_length=5, choices=Interval.choices, default=Interval.MONTH)
    status = models.CharField(max_length=20, choices=Status.choices)
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, unique=True)
    current_period_start = models.DateTimeField(null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The StateKey of the state held (see `apply`).
    subscription_created = models.BigIntegerField(default=0)
    event_created = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["status", "tier"], name="membership_status_idx")]

    def __str__(self) -> str:
        return f"{self.user} · {self.tier} ({self.status})"

    @property
    def state_key(self) -> StateKey:
        return StateKey(
            self.subscription_created,
            int(self.status == Status.CANCELED),
            int(self.current_period_start.timestamp()) if self.current_period_start else 0,
            self.event_created,
        )

    def gives_access(self, now: dt.datetime, grace_days: int) -> bool:
        """Active or trialing (until the period ends, when canceling at its end); past due
        for `grace_days` after the renewal that failed; never otherwise."""
        if self.status in {Status.ACTIVE, Status.TRIALING}:
            # The deleted event may be late; the period's end is what was promised.
            return not (
                self.cancel_at_period_end
                and self.current_period_end is not None
                and self.current_period_end <= now
            )
        if self.status == Status.PAST_DUE and self.current_period_start is not None:
            # Stripe opens the new period when it bills the renewal, so the failed
            # payment's date is the period's start, whatever order events came in.
            return now < self.current_period_start + dt.timedelta(days=grace_days)
        return False

    def apply(self, state: dict[str, Any], key: StateKey) -> bool:
        """Take a subscription's state unless older than the one held (the caller locks the row)."""
        if self.pk and key < self.state_key:
            return False
        for name, value in state.items():
            setattr(self, name, value)
        self.subscription_created = key.subscription_created
        self.event_created = key.event_created
        self.save()
        return True

    def price_display(self) -> str:
        return self.tier.price_display(self.interval)

    def is_ending(self) -> bool:
        return self.cancel_at_period_end and self.status in {Status.ACTIVE, Status.TRIALING}

    def can_change_plan(self) -> bool:
        return self.status in {Status.ACTIVE, Status.TRIALING, Status.PAST_DUE}


class MembershipInvoice(models.Model):
    """A subscription invoice as Stripe reported it; paid and void are final."""

    class State(models.TextChoices):
        DRAFT = "draft"
        OPEN = "open"
        UNCOLLECTIBLE = "uncollectible"
        PAID = "paid"
        VOID = "void"

    RANK = {"draft": 0, "open": 1, "uncollectible": 2, "paid": 3, "void": 3}

    stripe_invoice_id = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership_invoices"
    )
    stripe_subscription_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=15, choices=State.choices)
    billing_reason = models.CharField(max_length=40, blank=True)
    currency = models.CharField(max_length=3, default="gbp")
    amount_due = models.IntegerField(default=0)
    amount_paid = models.IntegerField(default=0)
    attempt_count = models.PositiveIntegerField(default=0)
    hosted_invoice_url = models.URLField(max_length=500, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        return self.stripe_invoice_id

    def amount_display(self) -> str:
        return format_money(self.amount_paid or self.amount_due, self.currency)


# --- The simulated provider's own books (what Stripe would hold) --------------------


class SimulatedClock(models.Model):
    """How far the simulated provider's clock runs ahead of the real one (one row)."""

    offset_seconds = models.BigIntegerField(default=0)
    # Every simulated event gets a later `created` than the last, as Stripe's would.
    last_event_created = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="simulated_clock_one")]

    def __str__(self) -> str:
        return f"+{self.offset_seconds}s"


class SimulatedSubscription(models.Model):
    """A subscription in the simulated provider: it renews, fails and ends as its clock moves."""

    stripe_id = models.CharField(max_length=100, unique=True)
    customer_id = models.CharField(max_length=100)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="+")
    interval = models.CharField(max_length=5, choices=Interval.choices)
    status = models.CharField(max_length=20, choices=Status.choices)
    created = models.DateTimeField()
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    trial_end = models.DateTimeField(null=True, blank=True)
    trial_warned = models.BooleanField(default=False)
    cancel_at_period_end = models.BooleanField(default=False)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    card_declines = models.BooleanField(default=False)
    invoice_count = models.PositiveIntegerField(default=0)
    open_invoice = models.JSONField(null=True, blank=True)

    def __str__(self) -> str:
        return self.stripe_id
