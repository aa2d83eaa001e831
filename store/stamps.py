"""Each buyer's own copy of a PDF, stamped with their email and order."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from store.storage import private_storage


class StampedFile(models.Model):
    """A buyer's own copy of one PDF version, stamped with their email and order."""

    class Status(models.TextChoices):
        PENDING = "pending"
        READY = "ready"
        FAILED = "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    version = models.ForeignKey(
        "store.FileVersion", on_delete=models.CASCADE, related_name="stamps"
    )
    order = models.ForeignKey("store.Order", on_delete=models.CASCADE)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(storage=private_storage, max_length=300, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # When the coach was emailed about it: the buyer's page says so only if true.
    coach_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "version"], name="stamp_once_per_buyer")
        ]

    def __str__(self) -> str:
        return f"{self.version} for {self.user}"

    def record_failure(self, error: str, *, give_up_after: int) -> bool:
        """Count one failed attempt; True when it was the last (the stamp is FAILED)."""
        self.attempts += 1
        self.last_error = error[:2000]
        if self.attempts >= give_up_after:
            self.status = self.Status.FAILED
            self.failed_at = timezone.now()
        self.save(update_fields=["attempts", "last_error", "status", "failed_at"])
        return self.status == self.Status.FAILED

    def mark_coach_told(self) -> bool:
        if self.coach_told_at is not None:
            return False
        self.coach_told_at = timezone.now()
        self.save(update_fields=["coach_told_at"])
        return True

    def start_again(self) -> bool:
        """A failed stamp goes back to the queue with fresh attempts; False otherwise."""
        restarted = StampedFile.objects.filter(pk=self.pk, status=self.Status.FAILED).update(
            status=self.Status.PENDING, attempts=0, failed_at=None
        )
        if restarted:
            self.refresh_from_db(fields=["status", "attempts", "failed_at"])
        return restarted == 1
