from __future__ import annotations

import difflib
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from coaching.admin_site import permission_required_or_403, require_permissions
from guides.models import Category, Guide, GuidePart, GuideRevision, Placement, Role, Tag
from guides.rendering import count_words, preview_bound, preview_over_bound, render_body
from guides.services import restore_revision, save_guide
from guides.structure import place_primary

PREVIEW_READERS = {
    "visitor": "a visitor (not signed in)",
    "member": "a signed-in member",
    "buyer": "a buyer of this guide",
}


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "parent", "position", "slug"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Role)
class RoleAdmin(ModelAdmin):
    list_display = ["name", "position", "slug"]
    list_editable = ["position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class PlacementForm(ModelForm):
    def validate_constraints(self) -> None:
        # "One primary per guide" is checked across the rows (PlacementFormSet), where
        # the primary may move from one row to another; per row it would meet the
        # old primary still stored.
        exclude = self._get_validation_exclusions()  # type: ignore[attr-defined]
        try:
            for constraint in Placement._meta.constraints:
                if constraint.name != "placement_one_primary":
                    constraint.validate(Placement, self.instance, exclude=exclude)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]


class PlacementFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        primaries = [
            form
            for form in self.forms
            if form.cleaned_data.get("is_primary") and not form.cleaned_data.get("DELETE")
        ]
        if len(primaries) > 1:
            raise ValidationError("A guide has one primary section: tick only one.")


class PlacementInline(TabularInline):
    """The sections the guide is listed in; the primary one is its category."""

    model = Placement
    form = PlacementForm
    formset = PlacementFormSet
    fields = ["category", "position", "is_primary"]
    extra = 0


class RevisionInline(TabularInline):
    model = GuideRevision
    fields = ["created_at", "title", "change_note", "author", "compare"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]
    verbose_name_plural = "Earlier versions (compare and restore)"

    @admin.display(description="")
    def compare(self, revision: GuideRevision) -> str:
        if revision.pk is None:  # a blank inline row, or one a form shown again carries
            return ""
        url = reverse("admin:guides_guide_revision", args=[revision.guide_id, revision.pk])
        return mark_safe(f'<a class="text-primary-600" href="{url}">Compare / restore</a>')  # noqa: S308


class GuidePartInline(StackedInline):
    """The parts of an interactive guide, in reading order (guides.interactive)."""

    model = GuidePart
    fields = ["position", "title", "summary", "body", "key_figures", "key_players"]
    extra = 0
    ordering = ["position", "pk"]
    verbose_name = "part"
    verbose_name_plural = "Parts, in reading order (lowest position first)"


class GuideAdminForm(forms.ModelForm):
    """The guide form, refusing to put out a gated guide whose preview gives away
    more than the bound (guides.rendering.preview_bound)."""

    class Meta:
        model = Guide
        # The fields this form's rule reads; GuideAdmin's fieldsets decide the rest
        # (the admin builds the form from them).
        fields = ["body", "status", "visibility", "tier"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        going_out = data.get("status") in {Guide.Status.PUBLISHED, Guide.Status.SCHEDULED}
        gated = data.get("visibility", Guide.Visibility.PUBLIC) != Guide.Visibility.PUBLIC
        body = data.get("body") or ""
        if data.get("visibility") == Guide.Visibility.TIER and not data.get("tier"):
            self.add_error("tier", "Name the tier whose members read this guide.")
        if going_out and gated and (words := preview_over_bound(body)) is not None:
            self.add_error(
                "body",
                f"The free preview (above <!-- more -->) has {words} words; a paid guide "
                f"of this length may show at most {preview_bound(count_words(body))}. "
                "Move the marker up, or save as a draft.",
            )
        return data


@admin.register(Guide)
class GuideAdmin(ModelAdmin):
    form = GuideAdminForm
    list_display = [
        "title", "category", "kind", "visibility", "status", "published_at", "read_time_minutes",
        "view_count",
    ]  # fmt: skip
    list_filter = ["status", "visibility", "kind", "level", "category", "roles"]
    search_fields = ["title", "summary", "slug"]
    date_hierarchy = "published_at"
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["roles"]
    readonly_fields = ["word_count", "view_count"]
    inlines = [PlacementInline, RevisionInline]
    change_form_after_template = "admin/guides/guide_after.html"
    fieldsets = (
        (None, {"fields": ("title", "slug", "summary", "category", "roles", "tags")}),
        ("Text", {"fields": ("body",), "description": (
            "Markdown. A line with only &lt;!-- more --&gt; ends the free preview of a gated "
            "guide; a line with only &lt;!-- cta --&gt; places the call to action."
        )}),
        ("Publishing", {"fields": (
            "status", "published_at", "updated_at", "change_note", "visibility", "tier",
            "is_featured",
        )}),
        ("Format", {"fields": ("kind", "level", "read_time_low_minutes", "read_time_minutes",
                               "word_count", "view_count", "cover_image")}),
        ("Video", {"fields": ("video_url", "video_duration_seconds", "video_poster",
                              "video_chapters"),
                   "description": "For video guides: the body holds the transcript or notes."}),
        ("Search engines", {"classes": ("collapse",), "fields": (
            "seo_title", "seo_description", "canonical_url",
        )}),
    )  # fmt: skip

    class Media:
        js = ["js/guide-editor.js"]
        css = {"all": ["css/guide-editor.css"]}

    def save_model(self, request: HttpRequest, obj: Guide, form: Any, change: bool) -> None:
        save_guide(guide=obj, author=request.user)

    def get_inlines(self, request: HttpRequest, obj: Guide | None = None) -> list[Any]:
        # Parts only where the page shows them: an interactive guide (saved as one first).
        if obj is not None and obj.kind == Guide.Kind.INTERACTIVE:
            return [GuidePartInline, *self.inlines]
        return list(self.inlines)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is Placement and form.instance.pk:
            # Moving "primary" from one row to another in one save must not meet the old
            # primary still set (one primary per guide is a database constraint): all
            # are cleared, then the row ticked is saved ticked.
            Placement.objects.filter(guide=form.instance).update(is_primary=False)
            for row in formset.forms:
                if row.instance.pk and row.cleaned_data.get("is_primary"):
                    row.changed_data.append("is_primary")  # so it is saved ticked again
        super().save_formset(request, form, formset, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Category and primary placement stay one: whichever the coach just changed wins.
        An interactive guide's contents and search text follow its parts."""
        super().save_related(request, form, formsets, change)
        guide = form.instance
        primary = guide.placements.filter(is_primary=True).first()
        if (
            primary is not None
            and primary.category_id != guide.category_id
            and "category" not in form.changed_data
        ):
            guide.category_id = primary.category_id
            Guide.objects.filter(pk=guide.pk).update(category=primary.category_id)
        else:
            place_primary(guide)
        if guide.kind == Guide.Kind.INTERACTIVE:
            from guides.interactive import refresh_from_parts

            refresh_from_parts(guide)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "markdown-preview/",
                self.admin_site.admin_view(
                    permission_required_or_403("guides.change_guide")(self.markdown_preview)
                ),
                name="guides_guide_markdown_preview",
            ),
            path(
                "<int:guide_id>/preview/<str:reader>/",
                self.admin_site.admin_view(
                    permission_required_or_403("guides.view_guide")(self.preview_as)
                ),
                name="guides_guide_preview",
            ),
            path(
                "<int:guide_id>/revisions/<int:revision_id>/",
                self.admin_site.admin_view(
                    permission_required_or_403("guides.view_guide", "guides.view_guiderevision")(
                        self.revision
                    )
                ),
                name="guides_guide_revision",
            ),
        ]
        return own + super().get_urls()

    def markdown_preview(self, request: HttpRequest) -> JsonResponse:
        """The live preview beside the editor: the same renderer the site uses."""
        if request.method != "POST":
            return JsonResponse({"error": "POST the Markdown as `body`."}, status=405)
        rendered = render_body(request.POST.get("body", "")[:2_000_000])
        return JsonResponse(
            {
                "html": rendered.html,
                "words": rendered.word_count,
                "preview_words": rendered.preview_word_count,
            }
        )

    def preview_as(self, request: HttpRequest, guide_id: int, reader: str) -> HttpResponse:
        """The guide page as a visitor, a member or a buyer would see it, drafts included."""
        from guides.views import render_guide_page

        guide = get_object_or_404(Guide, pk=guide_id)
        if reader not in PREVIEW_READERS:
            reader = "visitor"
        can_read = {
            "visitor": guide.visibility == Guide.Visibility.PUBLIC,
            "member": guide.visibility not in {Guide.Visibility.PAID, Guide.Visibility.TIER},
            "buyer": True,
        }[reader]
        response = render_guide_page(request, guide, can_read=can_read)
        banner = (
            f'<div class="preview-banner" role="status">Preview as {PREVIEW_READERS[reader]}'
            f" · status: {escape(guide.get_status_display())}</div>"
        )
        response.content = response.content.replace(b"<main", banner.encode() + b"<main", 1)
        return response

    def revision(self, request: HttpRequest, guide_id: int, revision_id: int) -> HttpResponse:
        guide = get_object_or_404(Guide, pk=guide_id)
        revision = get_object_or_404(GuideRevision, pk=revision_id, guide=guide)
        if request.method == "POST":
            return self._restore(request, revision)
        diff = difflib.HtmlDiff(wrapcolumn=80).make_table(
            revision.body.splitlines(),
            guide.body.splitlines(),
            fromdesc=f"Version of {revision.created_at:%d %b %Y %H:%M}",
            todesc="Current",
            context=True,
            numlines=2,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"Compare versions of “{guide.title}”",
            "guide": guide,
            "revision": revision,
            "diff": mark_safe(diff),  # noqa: S308 - difflib escapes the text it shows
            "title_changed": revision.title != guide.title,
            "summary_changed": revision.summary != guide.summary,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/guides/revision.html", context)

    @staticmethod
    @require_POST
    def _restore(request: HttpRequest, revision: GuideRevision) -> HttpResponse:
        require_permissions(request, "guides.change_guide")
        restore_revision(revision=revision, author=request.user)
        messages.success(request, "The earlier version is back; the replaced text is kept too.")
        return HttpResponseRedirect(reverse("admin:guides_guide_change", args=[revision.guide_id]))
