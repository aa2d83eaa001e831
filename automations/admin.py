"""Follow-up rules in the coach's admin, their runs, and the dry run of a rule."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin

from automations import conditions
from automations.models import Rule, Run
from automations.services import dry_run
from coaching.admin_site import permission_required_or_403


@admin.register(Rule)
class RuleAdmin(ModelAdmin):
    list_display = ["name", "trigger", "action", "is_active", "pending_runs", "dry_run_link"]
    list_filter = ["is_active", "trigger", "action"]
    search_fields = ["name"]
    autocomplete_fields = ["product"]
    fieldsets = [
        (None, {"fields": ["name", "is_active"]}),
        ("When", {"fields": ["trigger", "product", "trigger_days", "active_since"]}),
        ("Wait", {"fields": ["delay_hours", "local_hour"]}),
        ("If", {"fields": ["condition"]}),
        (
            "Then",
            {
                "fields": [
                    "action",
                    "email_subject",
                    "email_body",
                    "task_title",
                    "task_due_days",
                    "stage",
                    "mailing_list",
                ]
            },
        ),
    ]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        names = ", ".join(conditions.known_names())
        form.base_fields["condition"].help_text = (
            'Filters every person must match when the step is due, as {"name": value}, '
            f'e.g. {{"not_bought": "any"}}. Names: {names}.'
        )
        return form

    @admin.display(description="Waiting")
    def pending_runs(self, obj: Rule) -> int:
        return obj.runs.filter(status=Run.Status.PENDING).count()

    @admin.display(description="Dry run")
    def dry_run_link(self, obj: Rule) -> str:
        url = reverse("admin:automations_rule_dry_run", args=[obj.pk])
        return format_html('<a href="{}">Who today?</a>', url)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(
            permission_required_or_403("automations.view_rule")(self.dry_run_view)
        )
        return [
            path("<int:pk>/dry-run/", view, name="automations_rule_dry_run"),
            *super().get_urls(),
        ]

    def dry_run_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        rule = get_object_or_404(Rule, pk=pk)
        rows = dry_run(rule=rule)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Dry run: {rule.name}",
            "rule": rule,
            "rows": rows,
            "affected": sum(1 for row in rows if row.affected_today),
            "opts": self.model._meta,
            "original": rule,
        }
        return render(request, "automations/admin/dry_run.html", context)


@admin.register(Run)
class RunAdmin(ModelAdmin):
    list_display = ["rule", "contact", "trigger_key", "due_at", "status", "outcome"]
    list_filter = ["status", "rule"]
    search_fields = ["contact__email", "trigger_key"]
    list_select_related = ["rule", "contact"]
    readonly_fields = [f.name for f in Run._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
