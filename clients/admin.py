"""The coach's workspace in the admin: contacts with their page, the board, pipelines."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from unfold.admin import ModelAdmin, TabularInline

from clients import admin_views as views
from clients import csvio, privacy_views, results, results_views
from clients.models import (
    Contact,
    CreditAdjustment,
    Engagement,
    Note,
    Outcome,
    Pipeline,
    Session,
    Stage,
    StageChange,
    Task,
    TestimonialRequest,
)
from clients.testimonials import TestimonialStateError
from coaching.roles import EXPORT_PERMISSION

# The admin index is the coach's dashboard (figures come from DASHBOARD_CALLBACK).
admin.site.index_template = "clients/admin/dashboard.html"


class StageInline(TabularInline):
    model = Stage
    extra = 0
    fields = ["name", "position", "outcome", "role"]
    ordering = ["position"]


@admin.register(Pipeline)
class PipelineAdmin(ModelAdmin):
    list_display = ["name", "is_default", "position"]
    list_editable = ["position"]
    inlines = [StageInline]


class HasOpenTasksFilter(admin.SimpleListFilter):
    title = "open tasks"
    parameter_name = "open_tasks"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Has open tasks"), ("no", "No open tasks")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        open_tasks = Exists(Task.objects.filter(contact=OuterRef("pk"), done_at__isnull=True))
        if self.value() == "yes":
            return queryset.filter(open_tasks)
        if self.value() == "no":
            return queryset.filter(~open_tasks)
        return queryset


class StageFilter(admin.SimpleListFilter):
    title = "stage"
    parameter_name = "stage"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        stages = Stage.objects.select_related("pipeline").order_by("pipeline__position", "position")
        return [(str(s.pk), f"{s.pipeline.name} · {s.name}") for s in stages]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(stage_id=int(value))
        return queryset


@admin.register(Contact)
class ContactAdmin(ModelAdmin):
    list_display = ["__str__", "email", "pipeline", "stage", "source", "open_tasks",
                    "last_activity_at"]  # fmt: skip
    list_filter = ["pipeline", StageFilter, "source", HasOpenTasksFilter]
    search_fields = ["email", "name", "company"]
    list_select_related = ["pipeline", "stage"]
    list_per_page = 50
    # unfold asks every row for its sections: an absent attribute is an exception each.
    list_sections: list[Any] = []
    show_full_result_count = False
    raw_id_fields = ["user"]
    readonly_fields = ["pipeline", "stage", "stage_changed_at", "lost_reason", "created_at",
                       "last_activity_at"]  # fmt: skip
    fieldsets = (
        (None, {"fields": ("email", "name", "company", "time_zone", "user")}),
        ("Where they came from", {"fields": ("source", "source_detail")}),
        ("Pipeline", {"fields": ("pipeline", "stage", "stage_changed_at", "lost_reason",
                                 "created_at", "last_activity_at")}),
    )  # fmt: skip
    change_form_outer_before_template = "clients/admin/contact_workspace.html"
    change_list_template = "clients/admin/contact_change_list.html"
    actions = ["export_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Contact]:
        return super().get_queryset(request).annotate(open_tasks_n=views.open_tasks_subquery())

    @admin.display(description="Open tasks", ordering="open_tasks_n")
    def open_tasks(self, contact: Any) -> int:
        return int(contact.open_tasks_n or 0)

    def save_model(self, request: HttpRequest, obj: Contact, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and obj.stage_id is None:
            pipeline = Pipeline.objects.default()
            first = pipeline.stage_for(Stage.Role.LEAD) or pipeline.first_stage()
            if first is not None:
                obj.move_to(first, by=request.user, reason="Added by the coach")

    def get_urls(self) -> list[Any]:
        def wrap(view: Any, *perms: str) -> Any:
            return views.staff_view(self, view, *perms)

        extra = [
            path("board/", wrap(views.board), name="clients_contact_board"),
            path("import/", wrap(views.import_contacts, "clients.add_contact",
                                 "clients.change_contact"), name="clients_contact_import"),
            # Which export it is decides the rest of the permissions (in the view).
            path("export/<str:what>.csv", wrap(views.export, EXPORT_PERMISSION),
                 name="clients_contact_export"),
            path("brief/<int:booking_pk>/", wrap(views.brief, "bookings.view_booking"),
                 name="clients_contact_brief"),
            path("<int:pk>/move/", wrap(views.move, "clients.change_contact"),
                 name="clients_contact_move"),
            path("<int:pk>/note/", wrap(views.add_note, "clients.add_note"),
                 name="clients_contact_note"),
            path("<int:pk>/task/", wrap(views.add_task, "clients.add_task"),
                 name="clients_contact_task"),
            path("<int:pk>/task/<int:task_pk>/done/", wrap(views.complete_task,
                 "clients.change_task"), name="clients_contact_task_done"),
            path("<int:pk>/outcome/", wrap(views.add_outcome, "clients.add_outcome"),
                 name="clients_contact_outcome"),
            path("<int:pk>/export.zip", wrap(privacy_views.admin_export, "clients.export_contact"),
                 name="clients_contact_export_data"),
            path("<int:pk>/erase/", wrap(privacy_views.admin_erase, "clients.delete_contact"),
                 name="clients_contact_erase"),
            path("<int:pk>/session/<int:session_pk>/give-back/", wrap(views.give_back,
                 "clients.change_session", "clients.add_creditadjustment"),
                 name="clients_contact_give_back"),
            path("<int:pk>/session/<int:session_pk>/outcome/", wrap(views.session_outcome,
                 "clients.change_session"), name="clients_contact_session_outcome"),
        ]  # fmt: skip
        return extra + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {
            **(extra_context or {}),
            "board_url": reverse("admin:clients_contact_board"),
            "import_url": reverse("admin:clients_contact_import")
            if request.user.has_perms(["clients.add_contact", "clients.change_contact"])
            else "",
            "export_urls": [
                (name, reverse("admin:clients_contact_export", args=[name]))
                for name in csvio.EXPORTS
                if request.user.has_perms([EXPORT_PERMISSION, views.EXPORT_VIEW_PERMISSION[name]])
            ],
        }
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        contact = Contact.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        if contact is not None and self.has_view_permission(request, contact):
            extra_context = {**(extra_context or {}), **views.workspace_context(request, contact)}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_export_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(EXPORT_PERMISSION))

    @admin.action(description="Export selected contacts to CSV", permissions=["export"])
    def export_selected(self, request: HttpRequest, queryset: QuerySet[Contact]) -> HttpResponse:
        return csvio.stream_csv(
            "contacts-selected.csv", csvio.CONTACT_HEADER, csvio.contact_rows(queryset)
        )


@admin.register(Note)
class NoteAdmin(ModelAdmin):
    list_display = ["contact", "__str__", "is_shared", "author", "created_at"]
    list_filter = ["is_shared"]
    list_select_related = ["contact", "author"]
    search_fields = ["body", "contact__email", "contact__name"]
    raw_id_fields = ["contact", "author"]


@admin.register(Task)
class TaskAdmin(ModelAdmin):
    list_display = ["title", "contact", "due_on", "done_at"]
    list_filter = [("done_at", admin.EmptyFieldListFilter), "due_on"]
    list_select_related = ["contact"]
    search_fields = ["title", "contact__email", "contact__name"]
    raw_id_fields = ["contact", "created_by"]
    actions = ["mark_done"]

    @admin.action(description="Mark done", permissions=["change"])
    def mark_done(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        done = sum(1 for task in queryset if task.complete())
        self.message_user(request, f"{done} task(s) marked done.")


class SessionInline(TabularInline):
    model = Session
    extra = 0
    fields = ["starts_at", "booking", "outcome", "used_credit"]
    readonly_fields = ["used_credit", "outcome"]
    raw_id_fields = ["booking"]


class CreditAdjustmentInline(TabularInline):
    model = CreditAdjustment
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "change", "reason", "reference", "by"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Engagement)
class EngagementAdmin(ModelAdmin):
    list_display = ["title", "contact", "credits_total", "credits_used", "credits_left",
                    "expires_at", "status"]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["contact"]
    search_fields = ["title", "contact__email", "contact__name"]
    raw_id_fields = ["contact", "credit_grant"]
    readonly_fields = ["credits_used", "credits_expired"]
    inlines = [SessionInline, CreditAdjustmentInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Once credits move, the total changes only through the ledger's methods.
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["credits_total"] if obj is not None and obj.credits_used else fields


@admin.register(Outcome)
class OutcomeAdmin(ModelAdmin):
    list_display = ["kind", "contact", "company", "role", "level", "total", "currency",
                    "occurred_on"]  # fmt: skip
    list_filter = ["kind", "engagement__title"]
    list_select_related = ["contact"]
    search_fields = ["company", "role", "contact__email", "contact__name"]
    raw_id_fields = ["contact", "engagement"]
    date_hierarchy = "occurred_on"
    fieldsets = (
        (None, {"fields": ("contact", "kind", "occurred_on", "engagement", "service", "notes")}),
        ("The offer", {"fields": ("role", "company", "level", "currency", "base_salary", "bonus",
                                  "equity", "total", "compensation_band")}),
        ("Before", {"fields": ("before_role", "before_salary")}),
    )  # fmt: skip

    def save_model(self, request: HttpRequest, obj: Outcome, form: Any, change: bool) -> None:
        # A new offer also asks the client for a testimonial (once per offer).
        results.record_outcome(obj)

    def get_urls(self) -> list[Any]:
        custom = [
            path(
                "results/",
                views.staff_view(self, results_views.dashboard, "clients.view_outcome"),
                name="clients_outcome_results",
            )
        ]
        return custom + super().get_urls()


@admin.register(TestimonialRequest)
class TestimonialRequestAdmin(ModelAdmin):
    list_display = ["outcome", "status", "name_shown", "show_company", "show_figures",
                    "answered_at"]  # fmt: skip
    list_filter = ["status"]
    list_select_related = ["outcome__contact"]
    readonly_fields = ["outcome", "status", "quote", "name_shown", "show_company",
                       "show_figures", "answered_at", "approved_at", "testimonial",
                       "published_as"]  # fmt: skip
    exclude = ["uid"]
    actions = ["approve", "decline"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # asked for when an offer is recorded

    @admin.display(description="Published as (the client's consent applied)")
    def published_as(self, obj: TestimonialRequest) -> str:
        if not obj.answered_at:
            return "Not answered yet."
        shown = results.public_entry(obj)
        return " · ".join(
            part for part in (shown["author"], shown["role"], shown["figures"]) if part
        )

    @admin.action(description="Approve and publish", permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[TestimonialRequest]) -> None:
        done = 0
        for item in queryset:
            try:
                results.approve_testimonial(request=item)
                done += 1
            except TestimonialStateError as error:
                self.message_user(request, f"{item}: {error}", messages.WARNING)
        self.message_user(request, f"Published {done} testimonial(s).", messages.SUCCESS)

    @admin.action(description="Do not publish (or take down)", permissions=["change"])
    def decline(self, request: HttpRequest, queryset: QuerySet[TestimonialRequest]) -> None:
        for item in queryset:
            results.decline_testimonial(request=item)
        self.message_user(request, "Done.", messages.SUCCESS)


@admin.register(StageChange)
class StageChangeAdmin(ModelAdmin):
    list_display = ["contact", "from_stage", "to_stage", "at", "by", "automatic", "reason"]
    list_filter = ["automatic", "to_stage"]
    list_select_related = ["contact", "from_stage", "to_stage", "by"]
    search_fields = ["contact__email", "contact__name", "reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
