"""Readers' comments on guides, one level of replies, held for approval the first time.

A comment is plain text: it is stored as typed and escaped (and linkified) when shown,
so no markup a reader writes ever reaches a page or an email as HTML.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

MAX_LENGTH = 4000


class CommentQuerySet(models.QuerySet["Comment"]):
    def visible(self) -> CommentQuerySet:
        return self.filter(status=Comment.Status.VISIBLE)

    def pending(self) -> CommentQuerySet:
        return self.filter(status=Comment.Status.PENDING)

    def thread_for(self, guide: Any, user: Any) -> CommentQuerySet:
        """Top-level comments to show on a guide: visible ones, plus the reader's own held ones."""
        shown = models.Q(status=Comment.Status.VISIBLE)
        if user is not None and user.is_authenticated:
            shown |= models.Q(status=Comment.Status.PENDING, author=user)
        return (
            self.filter(shown, guide=guide, parent__isnull=True)
            .select_related("author")
            .order_by("-is_pinned", "created_at", "pk")
        )


class Comment(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        VISIBLE = "visible", "Shown"
        HIDDEN = "hidden", "Hidden"

    guide = models.ForeignKey("guides.Guide", on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comments"
    )
    # Replies hang off a top-level comment only: one level is all a guide needs.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies"
    )
    body = models.TextField(max_length=MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    by_coach = models.BooleanField(default=False, help_text="Written by the coach (badge).")
    is_pinned = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    approved_at = models.DateTimeField(null=True, blank=True)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["guide", "status"], name="comment_guide_status_idx")]

    def __str__(self) -> str:
        return f"{self.author} on {self.guide_id}: {self.body[:40]}"

    def approve(self) -> bool:
        if self.status != self.Status.PENDING:
            return False
        self.status = self.Status.VISIBLE
        self.approved_at = timezone.now()
        self.save(update_fields=["status", "approved_at"])
        return True

    def hide(self) -> bool:
        if self.status == self.Status.HIDDEN:
            return False
        self.status = self.Status.HIDDEN
        self.save(update_fields=["status"])
        return True

    def show(self) -> bool:
        if self.status != self.Status.HIDDEN:
            return False
        self.status = self.Status.VISIBLE
        self.save(update_fields=["status"])
        return True

    def set_pinned(self, pinned: bool) -> bool:
        if self.parent_id is not None or self.is_pinned == pinned:
            return False  # only a top-level comment can be pinned
        self.is_pinned = pinned
        self.save(update_fields=["is_pinned"])
        return True


class Commenter(models.Model):
    """What the site knows of one person as a commenter: trusted yet, and wants emails."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="commenter"
    )
    approved_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the coach first approves a comment of theirs."
    )
    reply_emails = models.BooleanField(
        default=True, help_text="Emailed when someone replies to their comment."
    )

    def __str__(self) -> str:
        return str(self.user)

    def approve(self) -> bool:
        if self.approved_at is not None:
            return False
        self.approved_at = timezone.now()
        self.save(update_fields=["approved_at"])
        return True

    def set_reply_emails(self, wanted: bool) -> bool:
        if self.reply_emails == wanted:
            return False
        self.reply_emails = wanted
        self.save(update_fields=["reply_emails"])
        return True


class PendingComment(Comment):
    """The admin's moderation queue (comments awaiting approval)."""

    class Meta:
        proxy = True
        verbose_name = "comment awaiting approval"
        verbose_name_plural = "comments awaiting approval"
