from __future__ import annotations

import re
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from coaching.images import (
    PORTRAIT_RATIO,
    PORTRAIT_WIDTHS,
    Picture,
    picture_from,
    refresh_renditions,
)
from coaching.markdown import MarkdownField

# The home page's hero shows the coach's bio up to about this many words.
INTRO_WORDS = 45


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person with an account: the coach, a buyer, a client. Email is the login."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email


class CoachProfile(models.Model):
    """The coach as the site presents them. One row; edited in the admin."""

    name = models.CharField(max_length=120)
    headline = models.CharField(max_length=200)
    bio = models.TextField(help_text="Markdown. Shown on the home and about pages.")
    photo = models.ImageField(
        upload_to="coach/",
        blank=True,
        help_text="A portrait, shown on the home and about pages; cropped to a square.",
    )
    # Made from photo on save (coaching.images); never edited by hand.
    photo_renditions = models.JSONField(default=dict, blank=True, editable=False)
    email = models.EmailField()
    time_zone = models.CharField(max_length=64, default="Europe/London")
    linkedin_url = models.URLField(blank=True)
    credentials = models.TextField(
        blank=True, help_text="One per line, shown as a list on the about page."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "coach profile"

    def __str__(self) -> str:
        return self.name

    @classmethod
    def current(cls) -> CoachProfile | None:
        return cls.objects.order_by("pk").first()

    @property
    def portrait(self) -> Picture | None:
        return picture_from(self.photo, self.photo_renditions)

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "photo" in update_fields:
            self.photo_renditions = refresh_renditions(
                self.photo, self.photo_renditions, widths=PORTRAIT_WIDTHS, ratio=PORTRAIT_RATIO
            )
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "photo_renditions"}
        super().save(*args, **kwargs)

    @property
    def credential_list(self) -> list[str]:
        return [line.strip() for line in self.credentials.splitlines() if line.strip()]

    @property
    def intro(self) -> str:
        """The bio's opening for the home page: whole sentences, about 45 words at most,
        so the hero never ends mid-sentence."""
        paragraph = self.bio.strip().split("\n\n")[0]
        sentences = re.findall(r"[^.!?]+[.!?]+(?:\s+|$)|[^.!?]+$", " ".join(paragraph.split()))
        intro = ""
        for sentence in sentences:
            if intro and len((intro + sentence).split()) > INTRO_WORDS:
                break
            intro += sentence
        return intro.strip()


class TestimonialQuerySet(models.QuerySet["Testimonial"]):
    def published(self) -> TestimonialQuerySet:
        return self.filter(is_published=True).order_by("position", "-created_at")


class Testimonial(models.Model):
    quote = models.TextField()
    author = models.CharField(max_length=120)
    role = models.CharField(max_length=160, blank=True, help_text="e.g. 'ML Engineer at …'")
    outcome = models.CharField(max_length=160, blank=True, help_text="e.g. 'Offer in 6 weeks'")
    is_published = models.BooleanField(default=True)
    is_featured = models.BooleanField(default=False, help_text="Shown on the home page.")
    position = models.PositiveIntegerField(default=0)
    offer = models.ForeignKey(
        "CoachingOffer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="testimonials",
        help_text="The service this client used; the quote shows on that service's page.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TestimonialQuerySet.as_manager()

    class Meta:
        ordering = ["position", "-created_at"]

    def __str__(self) -> str:
        return f"{self.author}: {self.quote[:40]}"


class CoachingOffer(models.Model):
    """A way to work with the coach, listed on the coaching page."""

    title = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    summary = models.CharField(max_length=300)
    description = models.TextField(help_text="Markdown.")
    price_label = models.CharField(max_length=60, help_text="e.g. 'Free', '£450'")
    duration_label = models.CharField(max_length=60, blank=True, help_text="e.g. '3 sessions'")
    call_to_action = models.CharField(max_length=60, default="Book a discovery call")
    link = models.CharField(max_length=200, default="/book/")
    position = models.PositiveIntegerField(default=0)
    is_published = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("coaching-offer", args=[self.slug])


class OutboundEmailQuerySet(models.QuerySet["OutboundEmail"]):
    def pending(self) -> OutboundEmailQuerySet:
        return self.filter(status=OutboundEmail.Status.PENDING)


class OutboundEmail(models.Model):
    """A transactional email recorded before it is sent (an outbox).

    Saving the row happens in the same transaction as the change that owes the
    email, so the email is never lost when Redis or SMTP is down: the sender
    task is enqueued after commit and beat sweeps whatever is still pending.
    `key` makes "send this once" a database promise.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"

    key = models.CharField(max_length=200, unique=True)
    template = models.CharField(max_length=100)
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    attachments = models.JSONField(
        default=list, blank=True, help_text="[{filename, content (text), mimetype}]"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboundEmailQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                name="outbox_pending_idx",
                condition=models.Q(status="pending"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.template} to {self.to} ({self.status})"

    def mark_sent(self) -> None:
        self.status = self.Status.SENT
        self.sent_at = timezone.now()
        self.last_error = ""
        self.save(update_fields=["status", "sent_at", "last_error"])

    def mark_attempt_failed(self, error: str, *, give_up_after: int) -> None:
        self.attempts += 1
        self.last_error = error[:2000]
        if self.attempts >= give_up_after:
            self.status = self.Status.FAILED
        self.save(update_fields=["attempts", "last_error", "status"])


class ThrottleCounter(models.Model):
    """One fixed-window counter per (scope, hashed key). Kept in PostgreSQL, not the
    cache, so a limit still holds when Redis is down or flushed; the key is a hash,
    so no address or IP is stored in the clear. See coaching/throttles.py."""

    key = models.CharField(max_length=120, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.count}"


class HookFailure(models.Model):
    """A cross-app receiver that raised (say, the CRM's timeline line for a booking).

    The action that fired it went through; what the receiver should have added is
    missing. Kept as a row and listed in the admin, so the coach sees it without
    reading logs; the receivers are listed in README's "How the parts talk".
    """

    hook = models.CharField(max_length=200)
    target = models.CharField(max_length=300)
    error = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.hook} on {self.target}"

    @classmethod
    def record(cls, hook: str, target: object, error: BaseException) -> HookFailure:
        return cls.objects.create(
            hook=hook[:200],
            target=repr(target)[:300],
            error=f"{type(error).__name__}: {error}"[:5000],
        )


# --- The coach's own pages, menus and old addresses ------------------------------------

# Slugs a page may take although a fixed view answers there: that view shows the page
# instead (the about page), so the coach can replace it without a dead address.
PAGE_SLUGS_OVER_FIXED_VIEWS = frozenset({"about"})


class PageQuerySet(models.QuerySet["Page"]):
    def published(self) -> PageQuerySet:
        return self.filter(is_published=True)


class Page(models.Model):
    """A page the coach writes in Markdown (About, Speaking, Papers...), served at /<slug>/."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        help_text="The address: /<slug>/. 'about' replaces the built-in about page.",
    )
    description = models.CharField(
        max_length=300, blank=True, help_text="For search engines and link previews."
    )
    body = MarkdownField(blank=True, help_text="Markdown.")
    # Rendered when saved, never per request (as guides are).
    body_html = models.TextField(blank=True, editable=False)
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PageQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/{self.slug}/"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from coaching.redirects import fixed_view_at

        if self.slug and self.slug not in PAGE_SLUGS_OVER_FIXED_VIEWS:
            taken_by = fixed_view_at(f"/{self.slug}/")
            if taken_by:
                raise ValidationError(
                    {"slug": f"/{self.slug}/ is already a page of the site ({taken_by})."}
                )

    def save(self, *args: Any, **kwargs: Any) -> None:
        from coaching.markdown import render_markdown

        update_fields = kwargs.get("update_fields")
        if update_fields is None or "body" in update_fields:
            self.body_html = render_markdown(self.body)[0]
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)


class MenuItemQuerySet(models.QuerySet["MenuItem"]):
    def shown(self) -> MenuItemQuerySet:
        """Items whose page is published (or that point at an address)."""
        return (
            self.filter(models.Q(page__isnull=True) | models.Q(page__is_published=True))
            .select_related("page")
            .order_by("menu", "position", "pk")
        )


class MenuItem(models.Model):
    """One link in the header or the footer; an empty menu shows the built-in links."""

    class Menu(models.TextChoices):
        NAV = "nav", "Header"
        FOOTER = "footer", "Footer"

    menu = models.CharField(max_length=10, choices=Menu.choices, default=Menu.NAV)
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(max_length=60, blank=True, help_text="Blank: the page's title.")
    page = models.ForeignKey(
        Page, null=True, blank=True, on_delete=models.CASCADE, related_name="menu_items"
    )
    url = models.CharField(
        max_length=300, blank=True, help_text="An address on this site (/guides/) or a full URL."
    )

    objects = MenuItemQuerySet.as_manager()

    class Meta:
        ordering = ["menu", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(page__isnull=True) & ~models.Q(url=""))
                | (models.Q(page__isnull=False) & models.Q(url="")),
                name="menuitem_page_or_url",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_menu_display()}: {self.text}"

    @property
    def text(self) -> str:
        return self.label or (self.page.title if self.page_id and self.page else self.url)

    @property
    def href(self) -> str:
        return self.page.get_absolute_url() if self.page_id and self.page else self.url

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.url = self.url.strip()
        if bool(self.page_id) == bool(self.url):
            raise ValidationError("Choose a page or type an address, not both.")
        if self.url and not self.url.startswith(("/", "https://", "http://", "mailto:")):
            raise ValidationError({"url": "Start with / for this site, or https:// for another."})
        if not self.page_id and not self.label:
            raise ValidationError({"label": "A link to an address needs a label."})


class Redirect(models.Model):
    """An old address of the coach's previous site, answered with a 301 to its new place.

    Consulted only when nothing else answers (a 404), so a redirect never hides a
    live page; saving refuses one that would, and refuses loops (coaching/redirects.py).
    """

    old_path = models.CharField(
        max_length=500, unique=True, help_text="The old address on this domain, e.g. /papers."
    )
    new_path = models.CharField(
        max_length=500, help_text="Where it now lives: /guides/... or a full https:// URL."
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["old_path"]

    def __str__(self) -> str:
        return f"{self.old_path} → {self.new_path}"

    def clean(self) -> None:
        from coaching.redirects import validate_redirect

        self.old_path, self.new_path = validate_redirect(
            self.old_path, self.new_path, exclude_pk=self.pk
        )
