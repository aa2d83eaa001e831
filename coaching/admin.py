from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from coaching.models import (
    CoachingOffer,
    CoachProfile,
    HookFailure,
    OutboundEmail,
    Testimonial,
    User,
)

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
    list_display = ["author", "role", "outcome", "is_published", "is_featured", "position"]
    list_editable = ["is_published", "is_featured", "position"]
    list_filter = ["is_published", "is_featured"]
    search_fields = ["author", "quote", "role"]


@admin.register(CoachingOffer)
class CoachingOfferAdmin(ModelAdmin):
    list_display = ["title", "price_label", "duration_label", "is_published", "position"]
    list_editable = ["is_published", "position"]
    prepopulated_fields = {"slug": ["title"]}


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
