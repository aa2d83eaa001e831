from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from unfold.admin import ModelAdmin, TabularInline
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from coaching.admin_site import permission_required_or_403
from coaching.models import (
    CoachingOffer,
    CoachProfile,
    HookFailure,
    MenuItem,
    OutboundEmail,
    Page,
    Redirect,
    Testimonial,
    User,
)
from coaching.redirects import import_redirects, read_csv

admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(ModelAdmin):
    search_fields = ["name"]


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "time_zone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(CoachProfile)
class CoachProfileAdmin(ModelAdmin):
    list_display = ["name", "headline", "email", "time_zone"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One profile: the site shows the first row.
        return not CoachProfile.objects.exists()


@admin.register(Testimonial)
class TestimonialAdmin(ModelAdmin):
    list_display = [
        "author", "role", "offer", "outcome", "is_published", "is_featured", "position",
    ]  # fmt: skip
    list_editable = ["is_published", "is_featured", "position"]
    list_filter = ["is_published", "is_featured", "offer"]
    search_fields = ["author", "quote", "role"]


class OfferTestimonialInline(TabularInline):
    model = Testimonial
    fields = ["quote", "author", "role", "outcome", "is_published", "position"]
    extra = 0


@admin.register(CoachingOffer)
class CoachingOfferAdmin(ModelAdmin):
    list_display = ["title", "price_label", "duration_label", "is_published", "position"]
    list_editable = ["is_published", "position"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [OfferTestimonialInline]


@admin.register(Page)
class PageAdmin(ModelAdmin):
    list_display = ["title", "slug", "is_published", "updated_at"]
    list_filter = ["is_published"]
    search_fields = ["title", "body"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "description", "body", "is_published"]
    view_on_site = True


@admin.register(MenuItem)
class MenuItemAdmin(ModelAdmin):
    list_display = ["__str__", "menu", "position", "page", "url"]
    list_editable = ["position"]
    list_filter = ["menu"]
    autocomplete_fields = ["page"]
    fields = ["menu", "position", "page", "url", "label"]


class RedirectImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with old_path,new_path[,note] on each row.")
    dry_run = forms.BooleanField(required=False, initial=True, label="Only check, change nothing")


@admin.register(Redirect)
class RedirectAdmin(ModelAdmin):
    list_display = ["old_path", "new_path", "note", "created_at"]
    search_fields = ["old_path", "new_path", "note"]
    fields = ["old_path", "new_path", "note"]

    def get_urls(self) -> list[Any]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(
                    # Adding and updating redirects changes the site's structure: an
                    # Assistant, who may not, is told so rather than sent back.
                    permission_required_or_403("coaching.add_redirect", "coaching.change_redirect")(
                        self.import_view
                    )
                ),
                name="coaching_redirect_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV; every row is checked and nothing is saved unless all pass."""
        form = RedirectImportForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            raw = form.cleaned_data["file"].read()
            try:
                rows = read_csv(raw.decode("utf-8"))
            except UnicodeDecodeError:
                form.add_error("file", "Save the file as UTF-8 CSV and try again.")
            else:
                result = import_redirects(rows, dry_run=form.cleaned_data["dry_run"])
                if not result.errors and not form.cleaned_data["dry_run"]:
                    messages.success(
                        request, f"Imported: {result.created} new, {result.updated} updated."
                    )
                    return redirect("admin:coaching_redirect_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import redirects",
            "form": form,
            "result": result,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/coaching/redirect_import.html", context)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ModelAdmin):
    list_display = ["template", "to", "subject", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "template"]
    search_fields = ["to", "subject", "key"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(HookFailure)
class HookFailureAdmin(ModelAdmin):
    """Receivers that failed: what they should have added is missing (see the model)."""

    list_display = ["created_at", "hook", "target", "error"]
    list_filter = ["hook"]
    search_fields = ["target", "error"]
    readonly_fields = ["hook", "target", "error", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
