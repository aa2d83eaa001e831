"""A testimonial asked for after an offer: what the client wrote and what they allow.

One request per offer (a unique key on the outcome), answered from a signed link.
Nothing is public until the coach approves; what is published then follows the
consent recorded here, field by field: full name or initials, the company or not,
figures or not.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models


class TestimonialRequestQuerySet(models.QuerySet["TestimonialRequest"]):
    def approved(self) -> TestimonialRequestQuerySet:
        return self.filter(status=TestimonialRequest.Status.APPROVED)


class TestimonialRequest(models.Model):
    __test__ = False  # a model, not a pytest class (its name starts with "Test")

    class Status(models.TextChoices):
        REQUESTED = "requested", "Asked, no answer yet"
        ANSWERED = "answered", "Answered, waiting for your approval"
        APPROVED = "approved", "Approved and published"
        DECLINED = "declined", "Not published"

    class NameShown(models.TextChoices):
        FULL = "full", "My name"
        INITIALS = "initials", "My initials only"

    outcome = models.OneToOneField(
        "clients.Outcome", on_delete=models.CASCADE, related_name="testimonial_request"
    )
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    quote = models.TextField(blank=True)
    name_shown = models.CharField(
        max_length=8, choices=NameShown.choices, default=NameShown.INITIALS
    )
    show_company = models.BooleanField(default=False)
    show_figures = models.BooleanField(default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    # The published quote (coaching's testimonial, shown on /results/ and the service page).
    testimonial = models.OneToOneField(
        "coaching.Testimonial",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="request",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TestimonialRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Testimonial for {self.outcome} ({self.status})"

    # --- State changes, guarded on the current state -----------------------------

    def answer(
        self, *, quote: str, name_shown: str, show_company: bool, show_figures: bool, now: datetime
    ) -> None:
        """The client's words and consent; they may revise them until the coach approves."""
        if self.status not in {self.Status.REQUESTED, self.Status.ANSWERED}:
            raise TestimonialStateError("This testimonial is already decided.")
        self.quote = quote
        self.name_shown = name_shown
        self.show_company = show_company
        self.show_figures = show_figures
        self.status = self.Status.ANSWERED
        self.answered_at = now
        self.save()

    def approve(self, *, now: datetime) -> None:
        if self.status != self.Status.ANSWERED:
            raise TestimonialStateError("Only an answered testimonial can be approved.")
        self.status = self.Status.APPROVED
        self.approved_at = now
        self.save(update_fields=["status", "approved_at"])

    def decline(self) -> None:
        if self.status == self.Status.DECLINED:
            return
        self.status = self.Status.DECLINED
        self.save(update_fields=["status"])


class TestimonialStateError(Exception):
    """A change asked of a testimonial in the wrong state (the caller shows a message)."""
