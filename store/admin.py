from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin, StackedInline, TabularInline

from coaching.admin_site import permission_required_or_403
from store import services, stripe_gateway
from store.forms import RefundForm
from store.models import (
    Coupon,
    CreditGrant,
    CreditLedger,
    CreditNote,
    Entitlement,
    FileVersion,
    Order,
    OrderItem,
    Price,
    Product,
    ProductFile,
    Refund,
    StampedFile,
    StripeEvent,
)
from store.plans import Instalment, PaymentPlan


class PriceInline(TabularInline):
    model = Price
    extra = 0


class ProductFileInline(TabularInline):
    model = ProductFile
    extra = 0
    fields = ["title", "position", "versions_link"]
    readonly_fields = ["versions_link"]

    @admin.display(description="Versions")
    def versions_link(self, obj: ProductFile) -> str:
        if not obj.pk:
            return "Save first, then add versions."
        url = reverse("admin:store_productfile_change", args=[obj.pk])
        return format_html('<a href="{}">Upload or view versions</a>', url)


@admin.register(Product)
class ProductAdmin(ModelAdmin):
    list_display = ["title", "kind", "price_display", "is_active", "position"]
    list_filter = ["kind", "is_active"]
    list_editable = ["is_active", "position"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["guides", "bundled"]
    inlines = [PriceInline, ProductFileInline]
    fieldsets = [
        (None, {"fields": ["kind", "title", "slug", "summary", "is_active", "position"]}),
        ("Page", {"fields": ["description", "included", "preview", "cover_image"]}),
        ("Pricing", {"fields": ["pay_what_you_want", "minimum_amount"]}),
        ("Refunds", {"fields": ["refund_policy", "refund_window_days", "automatic_refunds"]}),
        ("What it grants", {"fields": ["guides", "bundled", "session_credits", "validity_days"]}),
        (
            "Instalments (coaching packages)",
            {"fields": ["instalments", "instalment_interval_days", "instalment_credits"]},
        ),
    ]

    @admin.display(description="Price")
    def price_display(self, obj: Product) -> str:
        price = obj.price
        return price.display if price else "-"


class FileVersionInline(StackedInline):
    model = FileVersion
    extra = 1
    fields = ["label", "file", "filename", "notes", "created_at"]


@admin.register(ProductFile)
class ProductFileAdmin(ModelAdmin):
    list_display = ["title", "product", "position"]
    list_filter = ["product"]
    inlines = [FileVersionInline]

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            if isinstance(obj, FileVersion):
                # Past buyers hear about it once, with the notes, after commit.
                services.announce_new_version(version=obj)
                messages.info(request, f"Past buyers will be emailed about {obj.label}.")


@admin.register(Coupon)
class CouponAdmin(ModelAdmin):
    list_display = [
        "code",
        "percent_off",
        "amount_off",
        "times_redeemed",
        "max_redemptions",
        "expires_at",
        "is_active",
    ]
    list_filter = ["is_active"]
    search_fields = ["code"]
    readonly_fields = ["times_redeemed"]


class OrderItemInline(TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = ["product", "title", "unit_amount", "quantity"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RefundInline(TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    readonly_fields = ["amount", "instalment", "stripe_refund_id", "created_by", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CreditNoteInline(TabularInline):
    model = CreditNote
    extra = 0
    can_delete = False
    fields = ["number", "amount", "tax_amount", "reason", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InstalmentInline(TabularInline):
    model = Instalment
    extra = 0
    can_delete = False
    fields = [
        "number", "amount", "due_at", "paid_at", "failed_at", "cancelled_at", "amount_refunded",
        "stripe_payment_intent_id",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ModelAdmin):
    list_display = ["order", "instalment_count", "interval_days", "credit_release", "created_at"]
    readonly_fields = [
        "order", "instalment_count", "interval_days", "credit_release", "session_credits",
        "stripe_customer_id", "simulate_decline", "created_at",
    ]  # fmt: skip
    inlines = [InstalmentInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    list_display = [
        "number", "email", "status", "total_display", "created_at", "paid_at", "hold_reason",
    ]  # fmt: skip
    list_filter = ["status", "created_at", "paid_at", "refund_requested_at", "held_at"]
    search_fields = ["number", "email", "stripe_checkout_session_id", "stripe_payment_intent_id"]
    date_hierarchy = "created_at"
    inlines = [OrderItemInline, RefundInline, CreditNoteInline]
    actions = ["refund_in_full"]
    readonly_fields = [
        "number", "email", "user", "status", "currency", "subtotal", "discount", "total",
        "amount_refunded", "dispute", "coupon", "stripe_checkout_session_id",
        "stripe_payment_intent_id", "policy_snapshot", "refund_window_days", "created_at",
        "paid_at", "failed_at", "fulfilled_at", "held_at", "hold_reason", "refund_requested_at",
        "refund_request_reason", "refund_link", "invoice_number", "automatic_tax", "tax_amount",
    ]  # fmt: skip
    fields = [*readonly_fields, "business_name", "business_address", "tax_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Refund")
    def refund_link(self, obj: Order) -> str:
        if obj.paid_at is None or obj.refundable == 0:
            return "-"
        url = reverse("admin:store_order_refund", args=[obj.pk])
        return format_html('<a class="font-semibold text-primary-600" href="{}">Refund…</a>', url)

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:pk>/refund/",
                self.admin_site.admin_view(
                    permission_required_or_403("store.change_order", "store.add_refund")(
                        self.refund_view
                    )
                ),
                name="store_order_refund",
            )
        ]
        return custom + super().get_urls()

    def refund_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = get_object_or_404(Order, pk=pk)
        if not self.has_change_permission(request, order):
            return HttpResponse(status=403)
        form = RefundForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                services.refund_order(
                    order=order, amount=form.cleaned_data["amount"], by=request.user
                )
            except stripe_gateway.GatewayError as error:
                form.add_error(None, str(error))
            else:
                self.message_user(request, f"Refunded order {order.number}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:store_order_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Refund order {order.number}",
            "order": order,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "store/admin_refund.html", context)

    @admin.action(
        description="Refund selected orders in full (through Stripe)", permissions=["change"]
    )
    def refund_in_full(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        done = 0
        for order in queryset:
            try:
                services.refund_order(order=order, by=request.user)
                done += 1
            except stripe_gateway.GatewayError as error:
                self.message_user(request, f"{order.number}: {error}", messages.ERROR)
        if done:
            self.message_user(request, f"Refunded {done} order(s).", messages.SUCCESS)


@admin.register(Entitlement)
class EntitlementAdmin(ModelAdmin):
    list_display = ["user", "product", "order", "status", "created_at"]
    list_filter = ["status", "product"]
    search_fields = ["user__email", "order__number"]
    raw_id_fields = ["user", "order"]
    actions = ["revoke"]

    @admin.action(description="Revoke selected entitlements", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Entitlement]) -> None:
        count = sum(1 for entitlement in queryset if entitlement.revoke())
        self.message_user(request, f"Revoked {count}.", messages.SUCCESS)


class CreditLedgerInline(TabularInline):
    model = CreditLedger
    extra = 0
    can_delete = False
    readonly_fields = ["change", "reason", "reference", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CreditGrant)
class CreditGrantAdmin(ModelAdmin):
    list_display = ["user", "product", "used", "total", "expires_at", "revoked_at"]
    list_filter = ["product"]
    search_fields = ["user__email", "order__number"]
    raw_id_fields = ["user", "order"]
    readonly_fields = ["used"]
    inlines = [CreditLedgerInline]


@admin.register(StampedFile)
class StampedFileAdmin(ModelAdmin):
    """Buyers' stamped PDFs; the failed ones are the coach's to fix and prepare again."""

    list_display = ["version", "user", "order", "status", "attempts", "failed_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["user__email", "order__number"]
    readonly_fields = [
        "user", "version", "order", "status", "file", "attempts", "last_error", "created_at",
        "ready_at", "failed_at", "coach_told_at",
    ]  # fmt: skip
    actions = ["prepare_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StampedFile]:
        return (
            super().get_queryset(request).select_related("version__product_file", "user", "order")
        )

    @admin.action(description="Prepare again (failed copies)", permissions=["change"])
    def prepare_again(self, request: HttpRequest, queryset: QuerySet[StampedFile]) -> None:
        count = sum(1 for stamp in queryset if services.retry_stamp(stamp))
        self.message_user(
            request,
            f"Preparing {count} cop{'y' if count == 1 else 'ies'} again; "
            "the buyers are emailed when theirs is ready.",
            messages.SUCCESS,
        )


@admin.register(StripeEvent)
class StripeEventAdmin(ModelAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at", "result", "attempts"]
    list_filter = ["type", "processed_at"]
    search_fields = ["event_id"]
    readonly_fields = [
        "event_id", "type", "payload", "received_at", "processed_at", "result", "attempts",
        "last_error",
    ]  # fmt: skip
    actions = ["reprocess"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Process again (only unprocessed events)", permissions=["change"])
    def reprocess(self, request: HttpRequest, queryset: QuerySet[StripeEvent]) -> None:
        from store.webhooks import process

        results = [process(event.pk) for event in queryset]
        self.message_user(request, ", ".join(results) or "nothing to do")
