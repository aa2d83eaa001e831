"""Subscribers, lists, campaigns and the delivery ledger.

The ledger (`Delivery`, unique per campaign and subscriber) is what makes "one
message per person" a database promise (DESIGN.md rule 2); `newsletter/sending.py`
explains how a row moves from pending to sent without ever being sent twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from coaching.markdown import MarkdownField


def valid_time_zone(name: str) -> bool:
    if not name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


class MailingListQuerySet(models.QuerySet["MailingList"]):
    def choosable_by(self, subscriber: Any) -> MailingListQuerySet:
        """What the preferences page offers: public lists, and the lists the person
        already holds (to keep or leave); never a private list they are not on."""
        held = Q(
            subscriptions__subscriber=subscriber,
            subscriptions__status="subscribed",
        )
        return self.filter(Q(is_public=True) | held).distinct()


class MailingList(models.Model):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    description = models.CharField(max_length=300, blank=True)
    is_default = models.BooleanField(
        default=False, help_text="Ticked for people who subscribe from a page form."
    )
    is_public = models.BooleanField(default=True, help_text="Offered on the signup page.")
    position = models.PositiveIntegerField(default=0)
    lead_magnet = models.ForeignKey(
        "store.Product",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A free product (for example online access to a guide) put in the "
        "subscriber's library when they confirm.",
    )

    objects = MailingListQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


def erased_marker(email: str) -> str:
    """An erased person's entry on the suppression list: a hash, never the address.
    `erased_marker_of` and newsletter/sending.py compute the same value in the database."""
    return "erased:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


class ErasedMarker(models.Func):
    """erased_marker() in SQL, with the built-in sha256() (Django's SHA256 needs pgcrypto).
    newsletter/sending.py spells the same expression in its raw SQL."""

    template = "'erased:' || encode(sha256(convert_to(%(expressions)s, 'UTF8')), 'hex')"
    output_field = models.CharField()


def erased_marker_of(column: Any) -> ErasedMarker:
    return ErasedMarker(column)


class SubscriberQuerySet(models.QuerySet["Subscriber"]):
    def confirmed(self) -> SubscriberQuerySet:
        return self.filter(status=Subscriber.Status.CONFIRMED)

    def receiving(self, mailing_list: MailingList | int) -> SubscriberQuerySet:
        """Who may get a campaign on this list right now: confirmed, subscribed, not suppressed."""
        return (
            self.confirmed()
            .filter(
                subscriptions__mailing_list=mailing_list,
                subscriptions__status=Subscription.Status.SUBSCRIBED,
            )
            .exclude(email_lower__in=Suppression.objects.values("email"))
            .exclude(
                Exists(Suppression.objects.filter(email=erased_marker_of(OuterRef("email_lower"))))
            )
        )

    def awaiting_reminder(self, *, older_than: Any) -> SubscriberQuerySet:
        return self.filter(
            status=Subscriber.Status.PENDING,
            confirmation_sent_at__lte=older_than,
            reminder_sent_at__isnull=True,
        )


class Subscriber(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for confirmation"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"

    email = models.EmailField()
    # Lower-cased copy so that uniqueness, joins with the suppression list and
    # lookups all use one plain index.
    email_lower = models.EmailField(editable=False, unique=True)
    name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="newsletter_subscriptions",
    )
    # Consent as given: when, from where, on which form, and the words shown.
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_ip = models.GenericIPAddressField(null=True, blank=True)
    consent_source = models.CharField(max_length=120, blank=True)
    consent_text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    last_engaged_at = models.DateTimeField(null=True, blank=True)
    soft_bounces = models.PositiveIntegerField(default=0)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(email_lower=Lower("email")), name="subscriber_email_lower_matches"
            )
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_lower = self.email.lower()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "email" in update_fields:
            kwargs["update_fields"] = {*update_fields, "email_lower"}
        super().save(*args, **kwargs)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        name = self.time_zone if valid_time_zone(self.time_zone) else settings.COACH_TIME_ZONE
        return zoneinfo.ZoneInfo(name)

    def confirm(self) -> bool:
        """Pending (or re-subscribing) to confirmed. Guarded: False if nothing changed."""
        if self.status not in {self.Status.PENDING}:
            return False
        now = timezone.now()
        self.status = self.Status.CONFIRMED
        self.confirmed_at = now
        self.last_engaged_at = now
        self.save(update_fields=["status", "confirmed_at", "last_engaged_at"])
        return True

    def unsubscribe(self) -> bool:
        if self.status == self.Status.UNSUBSCRIBED:
            return False
        self.status = self.Status.UNSUBSCRIBED
        self.unsubscribed_at = timezone.now()
        self.save(update_fields=["status", "unsubscribed_at"])
        return True

    def restart_opt_in(self) -> bool:
        """An unsubscribed person asks again: back to pending until they confirm."""
        if self.status != self.Status.UNSUBSCRIBED:
            return False
        self.status = self.Status.PENDING
        self.confirmation_sent_at = None
        self.reminder_sent_at = None
        self.save(update_fields=["status", "confirmation_sent_at", "reminder_sent_at"])
        return True

    def mark_engaged(self) -> None:
        self.last_engaged_at = timezone.now()
        self.save(update_fields=["last_engaged_at"])


class Subscription(models.Model):
    class Status(models.TextChoices):
        SUBSCRIBED = "subscribed"
        UNSUBSCRIBED = "unsubscribed"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.CASCADE, related_name="subscriptions"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUBSCRIBED)
    created_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(default=timezone.now)
    # Joined through the list's own public form (/newsletter/subscribe/?list=<slug>):
    # only such a subscription earns the list's lead magnet, never a box ticked on
    # the preferences page.
    via_list_form = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "mailing_list"], name="subscription_unique"
            )
        ]
        indexes = [models.Index(fields=["mailing_list", "status"], name="subscription_list_idx")]

    def __str__(self) -> str:
        return f"{self.subscriber_id} on {self.mailing_list_id} ({self.status})"


class SuppressionQuerySet(models.QuerySet["Suppression"]):
    def covers(self, email: str) -> bool:
        """True when nothing may be sent to this address: suppressed, or erased."""
        return self.filter(email__in=[email.strip().lower(), erased_marker(email)]).exists()


class Suppression(models.Model):
    """Addresses that must never get a campaign, checked for every message at send time."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        HARD_BOUNCE = "hard-bounce", "Hard bounce"
        SOFT_BOUNCES = "soft-bounces", "Too many soft bounces"
        COMPLAINT = "complaint", "Spam complaint"
        MANUAL = "manual", "Added by the coach"
        ERASED = "erased", "Erased at their request (hash only)"

    email = models.EmailField(unique=True, help_text="Stored lower-cased.")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = SuppressionQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.lower()
        super().save(*args, **kwargs)


# The due time of an A/B test's rest until the winner is known (newsletter/abtest.py):
# no sender claims a row before it.
AB_HOLD = dt.datetime(2999, 1, 1, tzinfo=dt.UTC)


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def archived(self) -> CampaignQuerySet:
        return self.filter(is_public=True, status=Campaign.Status.SENT).order_by("-finished_at")

    def due_to_start(self) -> CampaignQuerySet:
        return self.filter(status=Campaign.Status.SCHEDULED, scheduled_at__lte=timezone.now())


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PREPARING = "preparing", "Preparing recipients"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        SENT = "sent", "Sent"
        CANCELLED = "cancelled", "Cancelled"

    class Schedule(models.TextChoices):
        NOW = "now", "As soon as I press send"
        AT = "at", "At a set time"
        LOCAL = "local", "At a set hour in each recipient's time zone"

    subject = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True, blank=True)
    preheader = models.CharField(
        max_length=200, blank=True, help_text="The grey line mail apps show after the subject."
    )
    body = MarkdownField(
        help_text="Markdown. A line holding only <code>{{ guide:slug }}</code> embeds a guide "
        "(its preview only, when the guide is gated)."
    )
    mailing_list = models.ForeignKey(MailingList, on_delete=models.PROTECT)
    segment = models.JSONField(
        default=dict, blank=True, help_text="Filters on top of the list (see newsletter/segments)."
    )
    schedule = models.CharField(max_length=8, choices=Schedule.choices, default=Schedule.NOW)
    scheduled_at = models.DateTimeField(
        null=True, blank=True, help_text="For 'at a set time', and the day for 'local hour'."
    )
    local_hour = models.PositiveSmallIntegerField(null=True, blank=True)
    is_public = models.BooleanField(default=True, help_text="Listed in the public archive.")
    track_clicks = models.BooleanField(default=True)
    track_opens = models.BooleanField(default=False, help_text="Adds a 1x1 image. Off by default.")
    # A/B subject test (newsletter/abtest.py): a sample gets one of two subjects, and
    # after `ab_wait_hours` the subject with more (human) clicks goes to the rest.
    subject_b = models.CharField(
        max_length=200, blank=True, help_text="A second subject to test. Empty: no test."
    )
    ab_sample_percent = models.PositiveSmallIntegerField(
        default=20,
        validators=[MinValueValidator(2), MaxValueValidator(100)],
        help_text="Share of recipients in the test, split evenly between the two subjects.",
    )
    ab_wait_hours = models.PositiveSmallIntegerField(
        default=4, help_text="Hours of clicks to count before the winner goes to the rest."
    )
    ab_winner = models.CharField(max_length=1, blank=True, editable=False)
    ab_decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT)
    error_count = models.PositiveIntegerField(default=0)
    pause_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.subject

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.slug:
            base = slugify(self.subject)[:180] or "campaign"
            slug, n = base, 1
            while Campaign.objects.filter(slug=slug).exclude(pk=self.pk).exists():
                n += 1
                slug = f"{base}-{n}"
            self.slug = slug
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("newsletter:archive-detail", args=[self.slug])

    @property
    def is_editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.SCHEDULED}

    def actions(self) -> list[str]:
        """The commands the send panel offers now, in the order it shows them.

        The guarded methods below still decide; this only keeps a finished
        campaign from showing buttons that can no longer do anything.
        """
        offered: dict[str, list[str]] = {
            self.Status.DRAFT: ["start", "cancel"],
            self.Status.SCHEDULED: ["start", "cancel"],
            self.Status.PREPARING: ["pause", "cancel"],
            self.Status.SENDING: ["pause", "cancel"],
            self.Status.PAUSED: ["resume", "cancel"],
        }
        return offered.get(self.status, [])

    def _move(self, allowed: set[str], to: str, **fields: Any) -> bool:
        """Conditional UPDATE so that two clicks or two workers cannot both win."""
        changed = Campaign.objects.filter(pk=self.pk, status__in=allowed).update(
            status=to, **fields
        )
        if changed:
            self.status = to
            for name, value in fields.items():
                setattr(self, name, value)
        return bool(changed)

    def mark_scheduled(self) -> bool:
        return self._move({self.Status.DRAFT}, self.Status.SCHEDULED)

    def mark_preparing(self) -> bool:
        return self._move(
            {self.Status.DRAFT, self.Status.SCHEDULED},
            self.Status.PREPARING,
            started_at=timezone.now(),
        )

    def mark_sending(self) -> bool:
        return self._move({self.Status.PREPARING}, self.Status.SENDING)

    def pause(self, reason: str = "") -> bool:
        return self._move(
            {self.Status.SENDING, self.Status.PREPARING}, self.Status.PAUSED, pause_reason=reason
        )

    def resume(self) -> bool:
        return self._move({self.Status.PAUSED}, self.Status.SENDING, pause_reason="", error_count=0)

    def cancel(self) -> bool:
        return self._move(
            {
                self.Status.DRAFT,
                self.Status.SCHEDULED,
                self.Status.PREPARING,
                self.Status.SENDING,
                self.Status.PAUSED,
            },
            self.Status.CANCELLED,
            finished_at=timezone.now(),
        )

    def mark_sent(self) -> bool:
        return self._move({self.Status.SENDING}, self.Status.SENT, finished_at=timezone.now())

    def progress(self) -> dict[str, Any]:
        counts = Delivery.objects.filter(campaign=self).aggregate(
            total=Count("pk"),
            sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
            failed=Count("pk", filter=Q(status=Delivery.Status.FAILED)),
            skipped=Count("pk", filter=Q(status=Delivery.Status.SKIPPED)),
            unconfirmed=Count(
                "pk", filter=Q(status=Delivery.Status.SENT, accepted_at__isnull=True)
            ),
            waiting_for_winner=Count(
                "pk", filter=Q(status=Delivery.Status.PENDING, due_at__gte=AB_HOLD)
            ),
        )
        if self.status == self.Status.SENDING:
            counts["unconfirmed"] = 0  # acknowledgements are recorded in small batches
        total = counts["total"] or 0
        done = counts["sent"] + counts["failed"] + counts["skipped"]
        remaining = total - done
        elapsed = (
            ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
            if self.started_at
            else 0.0
        )
        rate = counts["sent"] / elapsed if elapsed > 0 else 0.0
        return {
            **counts,
            "remaining": remaining,
            "percent": round(100 * done / total) if total else 0,
            "rate": round(rate, 1),
            "seconds_left": round(remaining / rate) if rate > 0 and remaining else None,
        }


class Delivery(models.Model):
    """One message of one campaign to one subscriber: the ledger."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"  # claimed by a sender holding a lease
        SENT = "sent"
        FAILED = "failed"
        SKIPPED = "skipped"  # unsubscribed or suppressed by send time

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="deliveries")
    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    due_at = models.DateTimeField(default=timezone.now)
    claim = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the mail server (or ESP) acknowledged the message. A `sent` row without
    # it after the campaign ends was being handed over when its sender died: the
    # one case where a message may not have arrived (newsletter/sending.py).
    accepted_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    # Which subject of an A/B test this row gets: "a" (the subject) or "b" (subject_b)
    # in the test's sample; "A" or "B", the winner, for the rest once it is chosen;
    # "" without a test, or for the rest while they wait (newsletter/abtest.py).
    variant = models.CharField(max_length=1, blank=True, default="", db_default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "subscriber"], name="delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["campaign", "due_at"],
                name="delivery_claimable_idx",
                condition=Q(status__in=["pending", "sending"]),
            )
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.campaign_id} -> {self.subscriber_id} ({self.status})"


class Link(models.Model):
    """A link in a campaign, so a click token carries two small ids instead of a URL."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="links")
    url = models.URLField(max_length=2000)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "url"], name="link_unique")]

    def __str__(self) -> str:
        return self.url


class Click(models.Model):
    """A followed link: feeds the client timeline (clients app reads these by subscriber)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="clicks")
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="clicks")
    clicked_at = models.DateTimeField(default=timezone.now, db_index=True)
    # What asked: link scanners and mail-privacy proxies are told apart by these
    # (newsletter/reports.py), never by guessing later.
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.delivery_id} clicked {self.link_id}"


class Open(models.Model):
    """Every load of a delivery's open pixel (`Delivery.opened_at` keeps the first)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="opens")
    opened_at = models.DateTimeField(default=timezone.now)
    user_agent = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["delivery", "opened_at"], name="open_delivery_idx")]

    def __str__(self) -> str:
        return f"{self.delivery_id} opened at {self.opened_at:%Y-%m-%d %H:%M:%S}"


class Feedback(models.Model):
    """A bounce, complaint or unsubscribe, credited to the delivery it answered."""

    class Kind(models.TextChoices):
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="feedback")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "kind"], name="feedback_once")]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.kind}"


class WelcomeStep(models.Model):
    """One email of a list's welcome sequence, sent a set time after confirmation."""

    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.CASCADE, related_name="welcome_steps"
    )
    delay_hours = models.PositiveIntegerField(
        help_text="Hours after confirmation (24 = the next day, 168 = a week)."
    )
    subject = models.CharField(max_length=200)
    body = MarkdownField(help_text="Markdown.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["mailing_list", "delay_hours", "pk"]

    def __str__(self) -> str:
        return f"{self.mailing_list} +{self.delay_hours}h: {self.subject}"


class WelcomeEmailQuerySet(models.QuerySet["WelcomeEmail"]):
    def due(self) -> WelcomeEmailQuerySet:
        return self.filter(status=WelcomeEmail.Status.PENDING, due_at__lte=timezone.now())


class WelcomeEmail(models.Model):
    """One step for one subscriber: made at confirmation, sent by beat when due."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        SKIPPED = "skipped"  # left the list (or was suppressed) before it was due

    step = models.ForeignKey(WelcomeStep, on_delete=models.CASCADE, related_name="emails")
    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="welcome_emails"
    )
    due_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = WelcomeEmailQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["step", "subscriber"], name="welcome_email_once")
        ]

    def __str__(self) -> str:
        return f"{self.step_id} -> {self.subscriber_id} ({self.status})"

    def finish(self, status: str) -> bool:
        """Pending to sent or skipped; False if another sender got there first."""
        changed = WelcomeEmail.objects.filter(pk=self.pk, status=self.Status.PENDING).update(
            status=status, sent_at=timezone.now() if status == self.Status.SENT else None
        )
        self.status = status if changed else self.status
        return bool(changed)
