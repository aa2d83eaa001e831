"""Coaching session credits bought with a package; the bookings app spends them.

The database keeps the count honest: a check constraint holds `used` between zero and
`total`, and spending is one conditional UPDATE.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone


class CreditGrantQuerySet(models.QuerySet["CreditGrant"]):
    def usable(self) -> CreditGrantQuerySet:
        """Grants with a credit left to spend: not revoked, not paused for a missed
        instalment, not used up, not expired."""
        return self.filter(
            revoked_at__isnull=True, paused_at__isnull=True, used__lt=F("total")
        ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))

    def usable_by(self, user: Any) -> CreditGrantQuerySet:
        """Soonest to expire first: the credit spent next."""
        return self.usable().filter(user=user).order_by(F("expires_at").asc(nulls_last=True), "pk")


class CreditGrant(models.Model):
    """Coaching session credits bought with a package; the bookings app spends them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credit_grants"
    )
    product = models.ForeignKey(
        "store.Product", on_delete=models.PROTECT, related_name="credit_grants"
    )
    order = models.ForeignKey("store.Order", on_delete=models.CASCADE, related_name="credit_grants")
    total = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # A missed instalment of the order's payment plan: booking waits until it is paid.
    paused_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CreditGrantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="credits_once_per_order"),
            models.CheckConstraint(condition=Q(used__lte=F("total")), name="credits_within_total"),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.remaining}/{self.total} ({self.product})"

    @property
    def remaining(self) -> int:
        return self.total - self.used

    def use_one(self, *, reason: str = "", reference: str = "") -> bool:
        """Spend one credit; False when none is left, expired or revoked. Never goes negative."""
        with transaction.atomic():
            taken = CreditGrant.objects.usable().filter(pk=self.pk).update(used=F("used") + 1)
            if not taken:
                return False
            CreditLedger.objects.create(grant=self, change=-1, reason=reason, reference=reference)
        self.refresh_from_db(fields=["used"])
        return True

    def give_back(self, *, reason: str = "", reference: str = "") -> bool:
        """Return one credit (a cancelled session); False when none was used."""
        with transaction.atomic():
            returned = CreditGrant.objects.filter(pk=self.pk, used__gt=0).update(used=F("used") - 1)
            if not returned:
                return False
            CreditLedger.objects.create(grant=self, change=1, reason=reason, reference=reference)
        self.refresh_from_db(fields=["used"])
        return True

    def revoke(self) -> bool:
        if self.revoked_at is not None:
            return False
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
        return True

    def pause(self) -> bool:
        if self.paused_at is not None:
            return False
        self.paused_at = timezone.now()
        self.save(update_fields=["paused_at"])
        return True

    def resume(self) -> bool:
        if self.paused_at is None:
            return False
        self.paused_at = None
        self.save(update_fields=["paused_at"])
        return True

    def release_up_to(self, total: int) -> bool:
        """Raise the credits granted (a paid instalment); never lowers them."""
        if total <= self.total:
            return False
        self.total = total
        self.save(update_fields=["total"])
        return True


class CreditLedger(models.Model):
    grant = models.ForeignKey(CreditGrant, on_delete=models.CASCADE, related_name="ledger")
    change = models.SmallIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    reference = models.CharField(max_length=200, blank=True, help_text="e.g. a booking id.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.change:+d} {self.reason}"
