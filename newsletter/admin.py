"""The coach's newsletter workspace: compose, preview, test, segment, send, watch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.apps import apps as django_apps
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from unfold.admin import ModelAdmin, TabularInline

from coaching.admin_site import permission_required_or_403
from newsletter import services
from newsletter.models import (
    Campaign,
    Click,
    Delivery,
    MailingList,
    Subscriber,
    Subscription,
    Suppression,
    WelcomeStep,
)
from newsletter.rendering import personalise, prepare
from newsletter.reports import Report, campaign_report
from newsletter.segments import apply_segment, available_filters

SEGMENT_PREFIX = "segment__"


def _segment_field(kind: str, label: str, help_text: str) -> forms.Field:
    if kind == "date":
        return forms.DateField(
            required=False,
            label=label,
            help_text=help_text,
            widget=forms.DateInput(attrs={"type": "date"}),
        )
    if kind == "days":
        return forms.IntegerField(required=False, min_value=1, label=label, help_text=help_text)
    if kind == "bool":
        return forms.BooleanField(required=False, label=label, help_text=help_text)
    return forms.CharField(required=False, label=label, help_text=help_text)


class CampaignForm(forms.ModelForm):
    """The segment is a dict of named filters; each available filter gets a field."""

    class Meta:
        model = Campaign
        fields = [
            "subject", "preheader", "body", "is_public", "mailing_list", "schedule",
            "scheduled_at", "local_hour", "track_clicks", "track_opens",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        segment = self.instance.segment or {}
        for item in available_filters():
            name = SEGMENT_PREFIX + item.name
            if name not in self.fields:
                self.fields[name] = _segment_field(item.kind, item.label, item.help)
            self.fields[name].initial = segment.get(item.name)

    @classmethod
    def with_segment_fields(cls) -> type[CampaignForm]:
        """A subclass declaring one field per available filter (the admin needs them declared)."""
        fields = {
            SEGMENT_PREFIX + item.name: _segment_field(item.kind, item.label, item.help)
            for item in available_filters()
        }
        return type("CampaignForm", (cls,), fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("schedule") == Campaign.Schedule.AT and not data.get("scheduled_at"):
            self.add_error("scheduled_at", "Choose when to send.")
        if data.get("schedule") == Campaign.Schedule.LOCAL and data.get("local_hour") is None:
            self.add_error("local_hour", "Choose the local hour (0-23).")
        hour = data.get("local_hour")
        if hour is not None and not 0 <= hour <= 23:
            self.add_error("local_hour", "An hour from 0 to 23.")
        return data

    def segment_value(self) -> dict[str, Any]:
        segment: dict[str, Any] = {}
        for item in available_filters():
            value = self.cleaned_data.get(SEGMENT_PREFIX + item.name)
            if value not in (None, "", False):
                segment[item.name] = value.isoformat() if hasattr(value, "isoformat") else value
        return segment

    def save(self, commit: bool = True) -> Campaign:
        self.instance.segment = self.segment_value()
        return super().save(commit)


class WelcomeStepInline(TabularInline):
    model = WelcomeStep
    extra = 0
    fields = ["delay_hours", "subject", "body", "is_active"]


@admin.register(MailingList)
class MailingListAdmin(ModelAdmin):
    list_display = ["name", "slug", "is_default", "is_public", "lead_magnet", "subscriber_count"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [WelcomeStepInline]

    @admin.display(description="Subscribed (confirmed)")
    def subscriber_count(self, obj: MailingList) -> int:
        return Subscriber.objects.receiving(obj).count()


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ["mailing_list", "status", "created_at", "changed_at"]
    readonly_fields = ["created_at", "changed_at"]


@admin.register(Subscriber)
class SubscriberAdmin(ModelAdmin):
    list_display = ["email", "name", "status", "time_zone", "created_at", "confirmed_at"]
    list_filter = ["status", "subscriptions__mailing_list"]
    search_fields = ["email", "name"]
    readonly_fields = [
        "consent_at",
        "consent_ip",
        "consent_source",
        "consent_text",
        "created_at",
        "confirmation_sent_at",
        "reminder_sent_at",
        "confirmed_at",
        "unsubscribed_at",
        "last_engaged_at",
        "soft_bounces",
    ]
    inlines = [SubscriptionInline]
    actions = ["unsubscribe_selected"]

    @admin.action(
        description="Unsubscribe and suppress the selected subscribers", permissions=["change"]
    )
    def unsubscribe_selected(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        for subscriber in queryset:
            services.unsubscribe(subscriber=subscriber, reason="coach")
        self.message_user(request, f"{queryset.count()} unsubscribed.")


@admin.register(Suppression)
class SuppressionAdmin(ModelAdmin):
    list_display = ["email", "reason", "detail", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]


@admin.register(Campaign)
class CampaignAdmin(ModelAdmin):
    form = CampaignForm
    list_display = ["subject", "mailing_list", "status", "schedule", "started_at", "progress_text"]
    list_filter = ["status", "mailing_list"]
    search_fields = ["subject"]
    readonly_fields = [
        "status",
        "pause_reason",
        "started_at",
        "finished_at",
        "error_count",
        "ab_winner_text",
    ]
    change_form_outer_before_template = "newsletter/admin/send_panel.html"
    change_form_after_template = "newsletter/admin/audience.html"
    fieldsets = [
        (None, {"fields": ["subject", "preheader", "body", "is_public"]}),
        ("Audience", {"fields": ["mailing_list"]}),
        ("When", {"fields": ["schedule", "scheduled_at", "local_hour"]}),
        ("Tracking", {"fields": ["track_clicks", "track_opens"]}),
        (
            "A/B subject test",
            {
                "fields": ["subject_b", "ab_sample_percent", "ab_wait_hours", "ab_winner_text"],
                "description": "Two subjects to a sample; after the wait, the one more people "
                "clicked in (not opened: privacy proxies open everything) goes to the rest.",
            },
        ),
        (
            "Status",
            {"fields": ["status", "pause_reason", "started_at", "finished_at", "error_count"]},
        ),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = [list(item) for item in super().get_fieldsets(request, obj)]
        names = [SEGMENT_PREFIX + item.name for item in available_filters()]
        fieldsets[1] = ["Audience", {"fields": ["mailing_list", *names]}]
        return fieldsets

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        kwargs["form"] = CampaignForm.with_segment_fields()
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and not obj.is_editable:
            fields += [
                "subject",
                "body",
                "mailing_list",
                "schedule",
                "scheduled_at",
                "local_hour",
                "track_clicks",
                "track_opens",
                "subject_b",
                "ab_sample_percent",
                "ab_wait_hours",
            ]
        return fields

    @admin.display(description="Winner")
    def ab_winner_text(self, obj: Campaign) -> str:
        if not obj.subject_b:
            return "No test"
        if not obj.ab_winner:
            return "Not chosen yet"
        subject = obj.subject_b if obj.ab_winner == "b" else obj.subject
        return f"{obj.ab_winner.upper()}: {subject}"

    @admin.display(description="Progress")
    def progress_text(self, obj: Campaign) -> str:
        if obj.status in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}:
            return "-"
        p = obj.progress()
        return f"{p['sent']} sent, {p['failed']} failed, {p['remaining']} left"

    def get_urls(self) -> list[URLPattern]:
        def see(view: Any) -> Any:
            return self.admin_site.admin_view(
                permission_required_or_403("newsletter.view_campaign")(view)
            )

        def send(view: Any) -> Any:
            return self.admin_site.admin_view(
                permission_required_or_403("newsletter.change_campaign")(view)
            )

        return [
            path("audience/", see(self.audience_view), name="newsletter_campaign_audience"),
            path("<int:pk>/preview/", see(self.preview_view), name="newsletter_campaign_preview"),
            path(
                "<int:pk>/progress/", see(self.progress_view), name="newsletter_campaign_progress"
            ),
            path("<int:pk>/send/", send(self.send_view), name="newsletter_campaign_send"),
            path("<int:pk>/report/", see(self.report_view), name="newsletter_campaign_report"),
            path(
                "<int:pk>/command/<str:command>/",
                send(require_POST(self.command_view)),
                name="newsletter_campaign_command",
            ),
            *super().get_urls(),
        ]

    def audience_view(self, request: HttpRequest) -> HttpResponse:
        """Live count for the segment picker (htmx posts the change form here)."""
        form = CampaignForm(request.POST or None)
        form.is_valid()  # partial forms are fine: only the audience fields matter
        data = getattr(form, "cleaned_data", {})
        mailing_list = data.get("mailing_list")
        count = None
        if mailing_list is not None:
            count = apply_segment(mailing_list.pk, form.segment_value()).count()
        return render(request, "newsletter/admin/_audience_count.html", {"count": count})

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign.objects.select_related("mailing_list"), pk=pk)
        prepared = prepare(campaign)
        html, text, _ = personalise(prepared, delivery_id=None, subscriber_id=0)
        if request.GET.get("format") == "text":
            return HttpResponse(text, content_type="text/plain; charset=utf-8")
        return HttpResponse(html)

    def progress_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        live = {Campaign.Status.PREPARING, Campaign.Status.SENDING, Campaign.Status.PAUSED}
        # 286 tells htmx to stop polling once nothing can change any more.
        return render(
            request,
            "newsletter/admin/_progress.html",
            {"campaign": campaign, "progress": campaign.progress()},
            status=200 if campaign.status in live else 286,
        )

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        report = campaign_report(campaign)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Report: {campaign.subject}",
            "campaign": campaign,
            "report": report,
            "charts": report_charts(report),
            "opts": self.model._meta,
            "original": campaign,
        }
        return render(request, "newsletter/admin/report.html", context)

    def command_view(self, request: HttpRequest, pk: int, command: str) -> HttpResponse:
        campaign = get_object_or_404(Campaign, pk=pk)
        if not self.has_change_permission(request, campaign):
            return HttpResponse(status=403)
        back = reverse("admin:newsletter_campaign_change", args=[pk])
        if command == "test":
            to = request.POST.get("to") or request.user.email  # type: ignore[union-attr]
            services.send_test(campaign=campaign, to=to)
            messages.success(request, f"Test sent to {to}.")
            return HttpResponseRedirect(back)
        verbs = {
            "start": services.start_campaign,
            "pause": services.pause_campaign,
            "resume": services.resume_campaign,
            "cancel": services.cancel_campaign,
        }
        verb = verbs.get(command)
        if verb is None:
            return HttpResponse(status=400)
        if verb(campaign=campaign):
            messages.success(request, _done_sentence(campaign, command))
        else:
            messages.warning(
                request,
                f"This campaign is {campaign.get_status_display().lower()}, "
                f"so it cannot be {_PAST[command]}.",
            )
        return HttpResponseRedirect(back)

    def send_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Confirm before a mass send, saying how many people it reaches."""
        campaign = get_object_or_404(Campaign.objects.select_related("mailing_list"), pk=pk)
        if not self.has_change_permission(request, campaign):
            return HttpResponse(status=403)
        if request.method == "POST":
            return self.command_view(request, pk, "start")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send “{campaign.subject}”?",
            "campaign": campaign,
            "recipients": (count := _recipient_count(campaign)),
            "recipients_display": f"{count:,}",
            "opts": self.model._meta,
            "original": campaign,
        }
        return render(request, "newsletter/admin/send_confirm.html", context)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        default = MailingList.objects.filter(is_default=True).first()
        if default:
            initial.setdefault("mailing_list", default.pk)
        initial.setdefault("scheduled_at", timezone.now())
        return initial


def report_charts(report: Report) -> list[Any]:
    """The clients dashboard's SVG charts (clients/charts.py), drawn for one campaign.

    Read only while the clients app is installed, as newsletter/segments.py reads it:
    without it the report keeps its tables.
    """
    if not django_apps.is_installed("clients"):
        return []
    from clients import charts

    hours = [f"{h}h" for h in range(len(report.opens_by_hour))]
    links = [line for line in report.links if line.clicks or line.machine_clicks][:10]
    return [
        charts.bar_chart(
            "Opens by people, hour by hour after sending",
            hours,
            report.opens_by_hour,
            empty_text="No opens by people yet",
        ),
        charts.hbar_chart(
            "Clicks by people per link",
            [line.url for line in links],
            [line.clicks for line in links],
            notes=[f"{line.machine_clicks} by machines" for line in links],
        ),
    ]


_PAST = {"start": "sent", "pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def _recipient_count(campaign: Campaign) -> int:
    return apply_segment(campaign.mailing_list_id, campaign.segment).count()


def _done_sentence(campaign: Campaign, command: str) -> str:
    """The flash after a command, as a sentence the coach reads at a glance."""
    if command == "start" and campaign.status == Campaign.Status.SCHEDULED:
        when = timezone.localtime(campaign.scheduled_at).strftime("%-d %B %Y at %H:%M %Z")
        return f"Scheduled for {when}."
    if command == "start":
        count = _recipient_count(campaign)
        return f"Sending to {count:,} subscriber{'' if count == 1 else 's'}."
    return {
        "pause": "Paused. Nobody else gets it until you resume.",
        "resume": "Sending again.",
        "cancel": "Cancelled. Nobody else gets it.",
    }[command]


class AcknowledgedFilter(admin.SimpleListFilter):
    """Sent rows the mail server never acknowledged: see newsletter/sending.py, point 4."""

    title = "acknowledged"
    parameter_name = "acknowledged"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No (sent, unconfirmed)")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(accepted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(status=Delivery.Status.SENT, accepted_at__isnull=True)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(ModelAdmin):
    list_display = [
        "campaign",
        "subscriber",
        "status",
        "attempts",
        "sent_at",
        "accepted_at",
        "error",
    ]
    list_filter = ["status", AcknowledgedFilter, "campaign"]
    search_fields = ["subscriber__email"]
    list_select_related = ["campaign", "subscriber"]
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Click)
class ClickAdmin(ModelAdmin):
    list_display = ["delivery", "link", "clicked_at"]
    list_select_related = ["delivery", "link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
