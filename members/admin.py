from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from members.models import Membership, MembershipInvoice, MembershipSettings, Tier


@admin.register(Tier)
class TierAdmin(ModelAdmin):
    list_display = [
        "name", "slug", "rank", "monthly_amount", "yearly_amount", "trial_days",
        "product_discount_percent", "is_active",
    ]  # fmt: skip
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["newsletter_lists"]

    def get_readonly_fields(self, request: HttpRequest, obj: Tier | None = None) -> list[str]:
        # Guides name their tier by slug (guides never imports members): a renamed
        # slug would silently lock its guides away from the members who paid for them.
        return ["slug"] if obj is not None else []

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: Tier | None = None
    ) -> dict[str, list[str]]:
        return {} if obj is not None else {"slug": ["name"]}


@admin.register(MembershipSettings)
class MembershipSettingsAdmin(ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return not MembershipSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Membership)
class MembershipAdmin(ModelAdmin):
    """Read only: Stripe's events are the only writer (members/services.py)."""

    list_display = [
        "user",
        "tier",
        "interval",
        "status",
        "current_period_end",
        "cancel_at_period_end",
    ]
    list_filter = ["status", "tier", "interval", "cancel_at_period_end"]
    search_fields = ["user__email", "stripe_subscription_id", "stripe_customer_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(MembershipInvoice)
class MembershipInvoiceAdmin(ModelAdmin):
    list_display = ["stripe_invoice_id", "user", "status", "amount_due", "amount_paid", "created"]
    list_filter = ["status", "billing_reason"]
    search_fields = ["user__email", "stripe_invoice_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
