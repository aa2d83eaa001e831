"""Payment plans: a coaching package paid in N instalments.

The schedule is written once, at checkout, from the price the buyer accepted: a
later change to the product (price, number of instalments, credits) never touches
it. The rounding remainder goes on the last instalment, so the first payment is
never the odd one out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from coaching.money import format_money


def split_amount(total: int, count: int) -> list[int]:
    """`count` instalments adding up to `total`: equal ones, the remainder on the last."""
    if count < 1 or total < count:
        raise ValueError("A plan needs at least one minor unit per instalment.")
    base = total // count
    return [base] * (count - 1) + [total - base * (count - 1)]


class CreditRelease(models.TextChoices):
    AT_ONCE = "at_once", "All credits when the first instalment is paid"
    PER_INSTALMENT = "per_instalment", "Credits in step with the instalments paid"


class PaymentPlan(models.Model):
    order = models.OneToOneField("store.Order", on_delete=models.CASCADE, related_name="plan")
    instalment_count = models.PositiveSmallIntegerField()
    interval_days = models.PositiveSmallIntegerField()
    # Copied from the product at checkout, like the price.
    credit_release = models.CharField(max_length=15, choices=CreditRelease.choices)
    session_credits = models.PositiveIntegerField(default=0)
    # The simulated provider only: its card declines the later instalments, so a
    # fresh machine can try a missed payment end to end.
    simulate_decline = models.BooleanField(default=False)
    # Stripe's customer holding the card saved at checkout, charged off-session later.
    stripe_customer_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(instalment_count__gte=2), name="plan_at_least_two_instalments"
            )
        ]

    def __str__(self) -> str:
        return f"{self.order} in {self.instalment_count}"

    def credits_released(self) -> int:
        """Credits the paid instalments have earned (all of them at once, or pro rata
        rounded down, the last instalment releasing the rest)."""
        if self.credit_release == CreditRelease.AT_ONCE:
            return self.session_credits
        paid = sum(1 for i in self.instalments.all() if i.paid_at is not None)
        return self.session_credits * paid // self.instalment_count

    def missed(self) -> list[Instalment]:
        return [i for i in self.instalments.all() if i.is_missed]

    @property
    def amount_paid(self) -> int:
        return sum(i.amount for i in self.instalments.all() if i.paid_at is not None)

    @property
    def tax_paid(self) -> int:
        return sum(i.tax_amount for i in self.instalments.all() if i.paid_at is not None)

    @property
    def amount_refunded(self) -> int:
        return sum(i.amount_refunded for i in self.instalments.all())

    def cancel_unpaid(self) -> int:
        """Stop the instalments not yet paid (the order refunded or lost): never collected."""
        return sum(1 for i in self.instalments.all() if i.cancel())

    def refund_shares(self, amount: int) -> list[tuple[Instalment, int]]:
        """`amount` spread over the paid charges, the latest first: [(instalment, part)]."""
        shares = []
        for instalment in sorted(self.instalments.all(), key=lambda i: -i.number):
            part = min(amount, instalment.refundable)
            if part > 0:
                shares.append((instalment, part))
                amount -= part
        return shares


class InstalmentQuerySet(models.QuerySet["Instalment"]):
    def due_for_collection(self) -> InstalmentQuerySet:
        """Due, unpaid, not yet tried: what the beat's collector charges."""
        return self.filter(
            due_at__lte=timezone.now(),
            paid_at__isnull=True,
            failed_at__isnull=True,
            collection_started_at__isnull=True,
            cancelled_at__isnull=True,
        )


class Instalment(models.Model):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="instalments")
    number = models.PositiveSmallIntegerField()
    amount = models.PositiveIntegerField(help_text="Minor units.")
    due_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    collection_started_at = models.DateTimeField(null=True, blank=True)
    # Set when the order was refunded in full (or lost) before this one was paid.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # What Stripe reports refunded of this instalment's own charge (cumulative).
    amount_refunded = models.PositiveIntegerField(default=0)
    # Stripe Tax on: the tax inside this instalment's amount, worked out for its own
    # charge (at checkout, or just before the off-session charge).
    tax_amount = models.PositiveIntegerField(default=0)
    # Stripe Tax's record of an off-session instalment's tax, reversed by its refunds.
    stripe_tax_transaction_id = models.CharField(max_length=255, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True)
    # The buyer's own "pay now" for a missed instalment.
    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True)

    objects = InstalmentQuerySet.as_manager()

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="instalment_once"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="instalment_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.order} {self.number}/{self.plan.instalment_count}"

    @property
    def amount_display(self) -> str:
        return format_money(self.amount, self.plan.order.currency)

    @property
    def is_missed(self) -> bool:
        return self.paid_at is None and self.failed_at is not None and self.cancelled_at is None

    @property
    def tax_display(self) -> str:
        return format_money(self.tax_amount, self.plan.order.currency)

    @property
    def refundable(self) -> int:
        return self.amount - self.amount_refunded if self.paid_at is not None else 0

    def pay_url(self) -> str:
        return reverse("store:instalment-pay", args=[self.plan.order.number, self.number])

    def claim_collection(self) -> bool:
        """True once per attempt: the caller owns charging it."""
        claimed = Instalment.objects.due_for_collection().filter(pk=self.pk)
        return claimed.update(collection_started_at=timezone.now()) == 1

    def mark_paid(self, *, payment_intent: str = "") -> bool:
        if self.paid_at is not None:
            return False
        self.paid_at = timezone.now()
        self.stripe_payment_intent_id = payment_intent or self.stripe_payment_intent_id
        self.save(update_fields=["paid_at", "stripe_payment_intent_id"])
        return True

    def cancel(self) -> bool:
        if self.paid_at is not None or self.cancelled_at is not None:
            return False
        self.cancelled_at = timezone.now()
        self.save(update_fields=["cancelled_at"])
        return True

    def record_refunded_total(self, amount_refunded: int) -> int:
        """Stripe reports the charge's cumulative refunds; keep the largest seen and
        return what is newly refunded (0 for a repeat or an older report)."""
        amount = min(amount_refunded, self.amount)
        if amount <= self.amount_refunded:
            return 0
        added, self.amount_refunded = amount - self.amount_refunded, amount
        self.save(update_fields=["amount_refunded"])
        return added

    def mark_failed(self) -> bool:
        """A declined charge; an instalment paid meanwhile (events in any order) stays paid."""
        if self.paid_at is not None or self.failed_at is not None:
            return False
        self.failed_at = timezone.now()
        self.save(update_fields=["failed_at"])
        return True


def write_schedule(*, order: Any, product: Any, count: int) -> PaymentPlan:
    """The plan and its instalments for `order`, from its total as bought."""
    from store.models import Product

    plan = PaymentPlan.objects.create(
        order=order,
        instalment_count=count,
        interval_days=product.instalment_interval_days,
        credit_release=product.instalment_credits,
        session_credits=product.session_credits if product.kind == Product.Kind.COACHING else 0,
    )
    start = timezone.now()
    Instalment.objects.bulk_create(
        Instalment(
            plan=plan,
            number=index + 1,
            amount=amount,
            due_at=start + timedelta(days=plan.interval_days * index),
        )
        for index, amount in enumerate(split_amount(order.total, count))
    )
    return plan
