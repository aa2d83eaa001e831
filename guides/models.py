from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone

from coaching.covers import cover_digest, cover_picture
from coaching.images import COVER_RATIO, COVER_WIDTHS, Picture, picture_from, refresh_renditions
from coaching.markdown import MarkdownField
from guides.video import validate_chapters, validate_video_url


class Category(models.Model):
    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    # Sections are a tree of two levels: a top section, or a section inside one.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"{reverse('guides:hub')}?category={self.slug}"


class Role(models.Model):
    """Who a guide is for ("software engineer", "researcher"): the hub's "navigate by role"."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(unique=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    """A free label the coach gives guides ("Essential career planning resource"):
    shown on cards, filterable on the hub with ?tag=."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=120, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class GuideQuerySet(models.QuerySet["Guide"]):
    def published(self) -> GuideQuerySet:
        return self.filter(status=Guide.Status.PUBLISHED, published_at__lte=timezone.now())

    def listed(self) -> GuideQuerySet:
        """Published guides as list pages show them: without the heavy body columns."""
        return (
            self.published()
            .select_related("category")
            .prefetch_related("tags")
            .defer(
                "body",
                "body_html",
                "preview_html",
                "toc",
                "search_vector",
                "full_search_vector",
                "preview_text",
                "body_text",
            )
        )

    def related_to(self, guide: Guide, limit: int = 3) -> GuideQuerySet:
        """Same category first, then guides sharing a role; never the guide itself."""
        role_ids = list(guide.roles.values_list("pk", flat=True))
        return (
            self.listed()
            .exclude(pk=guide.pk)
            .filter(Q(category_id=guide.category_id) | Q(roles__in=role_ids))
            .annotate(
                same_category=models.Case(
                    models.When(category_id=guide.category_id, then=1),
                    default=0,
                    output_field=models.IntegerField(),
                )
            )
            .order_by("-same_category", "-view_count", "-published_at")
            .distinct()[:limit]
        )

    def featured(self) -> GuideQuerySet:
        return self.listed().filter(is_featured=True).order_by("-published_at")

    def update_search_vectors(self) -> int:
        """Title weighs most, then summary, then body."""
        return self.update(
            search_vector=(
                SearchVector("title", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector("preview_text", weight="C", config="english")
            ),
            full_search_vector=(
                SearchVector("title", weight="A", config="english")
                + SearchVector("summary", weight="B", config="english")
                + SearchVector("body_text", weight="C", config="english")
            ),
        )

    def due_for_publication(self) -> GuideQuerySet:
        return self.filter(status=Guide.Status.SCHEDULED, published_at__lte=timezone.now())


class Guide(models.Model):
    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        VIDEO = "video", "Video"
        INTERACTIVE = "interactive", "Interactive"
        STUDY_GUIDE = "study-guide", "Study guide"

    class Level(models.TextChoices):
        NONE = "", "Any level"
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        SENIOR = "senior-level", "Senior level"
        ADVANCED = "advanced", "Advanced"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        MEMBERS = "members", "Members (signed in)"
        PAID = "paid", "Paid"
        TIER = "tier", "Members of a tier"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        PUBLISHED = "published", "Published"

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.TextField(max_length=1000)
    body = models.TextField(
        blank=True,
        help_text="Markdown. A line holding only <!-- more --> ends the public preview "
        "of a gated guide; a line holding only <!-- cta --> places the call to action.",
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="guides")
    # Every section the guide is listed in, at the coach's position; the primary
    # placement is mirrored in `category` (breadcrumbs, canonical URL, covers, feeds).
    sections = models.ManyToManyField(
        Category, through="Placement", blank=True, related_name="placed_guides"
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="guides")
    tags = models.ManyToManyField(Tag, blank=True, related_name="guides")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ARTICLE)
    level = models.CharField(max_length=20, choices=Level.choices, blank=True, default="")
    read_time_minutes = models.PositiveIntegerField(
        default=0, help_text="Leave at 0 to compute it from the words (230 a minute)."
    )
    read_time_low_minutes = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Optional: the lower end of a range (45 with 60 above reads '45-60 min read').",
    )
    cover_image = models.ImageField(
        upload_to="guides/covers/",
        blank=True,
        help_text="Optional: without one, a cover is drawn from the category and title. "
        "Best at 1200 × 630 or larger; it is cropped to that shape.",
    )
    # Made from cover_image on save (coaching.images); never edited by hand.
    cover_renditions = models.JSONField(default=dict, blank=True, editable=False)
    video_url = models.URLField(
        blank=True,
        validators=[validate_video_url],
        help_text="A YouTube or Vimeo address; the body holds transcript or notes.",
    )
    video_chapters = models.TextField(
        blank=True,
        validators=[validate_chapters],
        help_text="One chapter a line: time then title, e.g. '3:15 System design'.",
    )
    video_poster = models.ImageField(
        upload_to="guides/posters/",
        blank=True,
        help_text="Shown until the visitor plays the video (nothing loads from the host before).",
    )
    video_duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    # With visibility "tier": the membership tier (its slug) whose members, and
    # members of every higher tier, read the whole guide. A slug, not a key: the
    # tiers belong to an app above guides (members), which guides never imports.
    tier = models.SlugField(
        max_length=60,
        blank=True,
        help_text="For 'Members of a tier': the tier's slug (see Memberships › Tiers).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(
        null=True, blank=True, help_text="The date readers see as 'last updated'."
    )
    change_note = models.CharField(
        max_length=300, blank=True, help_text="What changed in the last update."
    )
    seo_title = models.CharField(max_length=200, blank=True)
    seo_description = models.CharField(max_length=300, blank=True)
    canonical_url = models.URLField(blank=True)
    is_featured = models.BooleanField(default=False)
    view_count = models.PositiveIntegerField(default=0, editable=False)
    # Kept by the comments app (visible comments), so a hub card shows it without a query.
    comment_count = models.PositiveIntegerField(default=0, editable=False)
    word_count = models.PositiveIntegerField(default=0, editable=False)

    # Rendered when saved, never per request.
    body_html = models.TextField(blank=True, editable=False)
    preview_html = models.TextField(blank=True, editable=False)
    toc = models.JSONField(default=list, blank=True, editable=False)
    # Plain text for search snippets: the preview's for visitors, the body's for readers.
    preview_text = models.TextField(blank=True, editable=False)
    body_text = models.TextField(blank=True, editable=False)
    # Two vectors so that a visitor's query can only ever match the public part
    # of a gated guide: `search_vector` covers title, summary and preview,
    # `full_search_vector` the whole text for readers entitled to it.
    search_vector = SearchVectorField(null=True, editable=False)
    full_search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    objects = GuideQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "title"]
        indexes = [
            GinIndex(fields=["search_vector"], name="guide_search_idx"),
            GinIndex(fields=["full_search_vector"], name="guide_full_search_idx"),
            models.Index(fields=["status", "published_at"], name="guide_published_idx"),
            models.Index(fields=["category", "status"], name="guide_category_idx"),
            models.Index(fields=["-view_count"], name="guide_most_read_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="guide_published_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(visibility="tier") | ~Q(tier=""),
                name="guide_tier_gated_names_tier",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("guides:detail", args=[self.slug])

    # What decides the public text the spelling dictionary counts (guides.search.PUBLIC_TEXT).
    PUBLIC_WORD_FIELDS = frozenset({"body", "title", "summary", "status", "visibility"})

    @property
    def is_gated(self) -> bool:
        return self.visibility != self.Visibility.PUBLIC

    @property
    def last_updated(self) -> Any:
        return self.updated_at or self.published_at

    @property
    def read_time_label(self) -> str:
        from guides.structure import read_time_label

        return read_time_label(self.read_time_low_minutes, self.read_time_minutes)

    @property
    def cover(self) -> Picture:
        """The uploaded cover's renditions, or the cover drawn from category and title."""
        uploaded = picture_from(self.cover_image, self.cover_renditions)
        if uploaded is not None:
            return uploaded
        digest = cover_digest(self.category.name, self.title)
        return cover_picture(reverse("guides:cover", args=[self.slug, digest]))

    @property
    def uploaded_cover(self) -> Picture | None:
        """Only the coach's own cover: a drawn one would repeat the title under the title."""
        return picture_from(self.cover_image, self.cover_renditions)

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        changes = set(update_fields) if update_fields is not None else None
        if changes is None or "cover_image" in changes:
            self.cover_renditions = refresh_renditions(
                self.cover_image, self.cover_renditions, widths=COVER_WIDTHS, ratio=COVER_RATIO
            )
            if changes is not None:
                changes.add("cover_renditions")
        if changes is None or "body" in changes:
            self.render()
            if changes is not None:
                changes |= {
                    "body_html",
                    "preview_html",
                    "toc",
                    "word_count",
                    "read_time_minutes",
                    "preview_text",
                    "body_text",
                }
        if changes is not None:
            kwargs["update_fields"] = changes
        if changes is not None and not changes & self.PUBLIC_WORD_FIELDS:
            super().save(*args, **kwargs)
            return
        from guides.search import count_public_words

        fields = sorted(self.PUBLIC_WORD_FIELDS)
        with transaction.atomic():
            # The words of the row as stored go, those of the row as saved come;
            # counting a long guide costs ~0.3 s, so not when its text is unchanged.
            stored = (
                Guide.objects.select_for_update().filter(pk=self.pk).values(*fields).first()
                if self.pk
                else None
            )
            recount = stored != {name: getattr(self, name) for name in fields}
            if stored is not None and recount:
                count_public_words([self.pk], sign=-1)
            super().save(*args, **kwargs)
            if changes is None or {"body", "title", "summary"} & changes:
                Guide.objects.filter(pk=self.pk).update_search_vectors()
                from coaching.tasks import enqueue_on_commit
                from guides.tasks import embed_guide

                # Semantic search's passages follow in Celery; until they are
                # written the guide is found by its text.
                enqueue_on_commit(embed_guide, self.pk)
            if recount:
                count_public_words([self.pk], sign=1)

    def render(self) -> None:
        """Derive the HTML, preview, contents and read time from the Markdown body."""
        from guides.rendering import html_to_text, read_time, render_body

        rendered = render_body(self.body)
        self.body_html = rendered.html
        self.preview_html = rendered.preview_html
        self.toc = rendered.toc
        self.body_text = html_to_text(rendered.html)
        self.preview_text = html_to_text(rendered.preview_html)
        self.word_count = rendered.word_count
        if not self.read_time_minutes:
            self.read_time_minutes = read_time(rendered.word_count)

    def publish(self) -> bool:
        """Publish a scheduled guide whose time has come. Guarded: False if not due."""
        if self.status != self.Status.SCHEDULED or not self.published_at:
            return False
        if self.published_at > timezone.now():
            return False
        self.status = self.Status.PUBLISHED
        self.save(update_fields=["status", "modified_at"])
        return True


class Placement(models.Model):
    """A guide listed in a section at a position; one placement per guide is primary."""

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="placements")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="placements")
    position = models.PositiveIntegerField(default=0)
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["category__position", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["guide", "category"], name="placement_once"),
            models.UniqueConstraint(
                fields=["guide"], condition=Q(is_primary=True), name="placement_one_primary"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guide_id} in {self.category_id} at {self.position}"


class SearchTerm(models.Model):
    """Words of the public text of guides, for "did you mean" correction of misspellings.

    Only text anyone may read feeds it (`guides.search.PUBLIC_TEXT`: a public
    guide whole, the preview of a gated one), so a suggestion never reveals a
    word from paid text. `weight` is how often the word occurs there, so a
    frequent word wins over a rare one as alike; `stem` (English) makes every
    form of a known word known.
    """

    word = models.CharField(max_length=100, unique=True)
    stem = models.CharField(max_length=100, db_index=True)
    weight = models.IntegerField(default=0)

    class Meta:
        indexes = [
            GinIndex(fields=["word"], name="searchterm_trgm_idx", opclasses=["gin_trgm_ops"])
        ]

    def __str__(self) -> str:
        return self.word


# A passage's vector: guides.embeddings.DIMENSIONS float32 values (a test holds
# the two together; the number is here so that models need not load numpy).
PASSAGE_VECTOR_BYTES = 384 * 4


class GuidePassage(models.Model):
    """One passage of a guide and its sentence embedding, for semantic search.

    Written by the `embed_guide` task after each save (guides/embeddings.py):
    the title, summary, headings and body in chunks. `public` says the passage
    is part of what anyone may read (title, summary, the preview): for a reader
    who may not read the guide in full only those may match or show
    (`guides.access.ReadingRights`).
    """

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="passages")
    position = models.PositiveIntegerField()
    public = models.BooleanField()
    text = models.TextField()
    # float32 little-endian, L2-normalised (guides.embeddings.DIMENSIONS values;
    # the constraint keeps a vector of another model's width out).
    vector = models.BinaryField()
    # Against the guide's modified_at: passages older than the guide's last save
    # were lost with a broker outage and are redone by `embed_stale_guides`.
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["guide", "position"], name="passage_position_unique"),
            models.CheckConstraint(
                condition=Exact(Length("vector"), PASSAGE_VECTOR_BYTES),
                name="passage_vector_width",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.guide_id}#{self.position}"


class GuideRevision(models.Model):
    """The body as it was before a save: the coach can compare and restore."""

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(max_length=200)
    summary = models.TextField()
    body = models.TextField()
    change_note = models.CharField(max_length=300, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.guide.title} @ {self.created_at:%Y-%m-%d %H:%M}"


class GuideView(models.Model):
    """One counted read: our own analytics, no third party, no IP stored.

    `user` is kept for signed-in readers so the coach's timeline can show what a
    client read; anonymous reads are counted only.
    """

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="views")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    viewed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-viewed_at"], name="guideview_user_idx")]

    def __str__(self) -> str:
        return f"{self.guide_id} at {self.viewed_at:%Y-%m-%d}"


class GuidePart(models.Model):
    """One part of an interactive guide ("Layer 3: AI Accelerators"), read in order.

    The guide's page shows its parts with an overview, the current part while
    scrolling and keyboard navigation (guides.interactive, static/js/stack.js).
    Gated with the guide: only a reader `can_view` allows gets any part's text.
    """

    guide = models.ForeignKey(Guide, on_delete=models.CASCADE, related_name="parts")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    summary = models.CharField(
        max_length=300, blank=True, help_text="One line: what this part is about (the overview)."
    )
    body = MarkdownField(blank=True, help_text="Markdown, as in guide bodies.")
    key_figures = models.TextField(
        blank=True,
        help_text="One per line: what is measured, a colon, the figure "
        "(“Share of rare earth refining in China: ~90%”).",
    )
    key_players = models.TextField(
        blank=True, help_text="One per line: a company, project or organisation."
    )
    # Rendered and sanitised when saved, never per request.
    body_html = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        from guides.interactive import render_part_body

        self.body_html = render_part_body(self.body)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    @property
    def figures(self) -> list[tuple[str, str]]:
        """(what, figure) pairs; a line without a colon is a figure on its own."""
        pairs = []
        for line in self.key_figures.splitlines():
            what, colon, figure = line.strip().partition(": ")
            if line.strip():
                pairs.append((what, figure) if colon else ("", what))
        return pairs

    @property
    def players(self) -> list[str]:
        return [line.strip() for line in self.key_players.splitlines() if line.strip()]
