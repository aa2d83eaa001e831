"""The coach's side: event types with their hours, bookings, a calendar, outcomes."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from unfold.admin import ModelAdmin, TabularInline

from bookings import services, tasks
from bookings.availability import coach_zone_name
from bookings.forms import BusyCalendarForm
from bookings.models import (
    AvailabilityRule,
    Booking,
    BookingReminder,
    BookingStateError,
    BusyCalendar,
    DateOverride,
    EventType,
    WaitlistEntry,
)
from bookings.slots import zone
from bookings.tokens import feed_url, manage_url
from coaching.admin_site import permission_required_or_403
from coaching.roles import sees_money
from coaching.tasks import enqueue, enqueue_on_commit


class AvailabilityRuleInline(TabularInline):
    model = AvailabilityRule
    extra = 0


class DateOverrideInline(TabularInline):
    model = DateOverride
    extra = 0
    fields = ["date", "start_time", "end_time", "note"]


PRICE_FIELDS = ("price_amount", "currency")
PAID_BY = ("price_amount", "payment_reference", "order", "credit_grant", "credit_returned_at")


@admin.register(EventType)
class EventTypeAdmin(ModelAdmin):
    list_display = [
        "name",
        "kind",
        "seats",
        "duration_minutes",
        "price_amount",
        "is_active",
        "position",
    ]
    list_filter = ["kind", "is_active"]
    list_editable = ["is_active", "position"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [AvailabilityRuleInline, DateOverrideInline]
    fieldsets = (
        (None, {"fields": ("coach", "kind", "name", "slug", "summary", "description", "is_active",
                           "position")}),
        ("Group sessions", {"fields": ("seats", "series_length")}),
        ("Time", {"fields": ("duration_minutes", "buffer_before_minutes", "buffer_after_minutes",
                             "start_increment_minutes", "minimum_notice_minutes", "horizon_days",
                             "daily_cap")}),
        ("Where and what", {"fields": ("location_kind", "location_detail", "meeting_url",
                                       "price_amount",
                                       "currency", "intake_questions")}),
        ("Holds, reminders and policy", {"fields": (
            "hold_minutes", "payment_window_minutes", "waitlist_hold_minutes",
            "reminder_offsets_minutes", "cancel_cutoff_hours", "reschedule_cutoff_hours",
            "max_reschedules")}),
    )  # fmt: skip

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"coach": request.user.pk, "reminder_offsets_minutes": [1440, 60]}

    # A paid session's price is money: staff without the money permission (an
    # Assistant, coaching/roles.py) see event types without it.
    def get_list_display(self, request: HttpRequest) -> Any:
        shown = super().get_list_display(request)
        return shown if sees_money(request.user) else [f for f in shown if f not in PRICE_FIELDS]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if sees_money(request.user):
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in PRICE_FIELDS]})
            for name, options in fieldsets
        ]


@admin.register(DateOverride)
class DateOverrideAdmin(ModelAdmin):
    list_display = ["date", "start_time", "end_time", "event_type", "note"]
    list_filter = ["event_type"]
    date_hierarchy = "date"


class BookingReminderInline(TabularInline):
    model = BookingReminder
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "offset_minutes", "for_start", "due_at", "status", "sent_at"]


@admin.register(Booking)
class BookingAdmin(ModelAdmin):
    list_display = ["start", "event_type", "name", "email", "status", "time_zone",
                    "reschedule_count"]  # fmt: skip
    list_filter = ["status", "event_type", ("start", admin.DateFieldListFilter)]
    search_fields = ["name", "email"]
    date_hierarchy = "start"
    ordering = ["-start"]
    actions = ["mark_completed", "mark_no_show", "mark_late_cancel", "cancel_bookings"]
    readonly_fields = ["uid", "during", "sequence", "policy", "created_at", "updated_at",
                       "confirmed_at", "cancelled_at", "manage_link", "order", "credit_grant",
                       "credit_returned_at"]  # fmt: skip
    inlines = [BookingReminderInline]
    list_select_related = ["event_type"]
    change_list_template = "bookings/admin_change_list.html"

    # The order and credit grant that paid for a booking are money (coaching/roles.py).
    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        shown = super().get_readonly_fields(request, obj)
        return shown if sees_money(request.user) else [f for f in shown if f not in PAID_BY]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        excluded = list(super().get_exclude(request, obj) or [])
        return excluded if sees_money(request.user) else [*excluded, *PAID_BY]

    def manage_link(self, booking: Booking) -> str:
        return manage_url(booking)

    def get_urls(self) -> list[Any]:
        extra = [
            path(
                "calendar/",
                self.admin_site.admin_view(
                    permission_required_or_403("bookings.view_booking")(self.calendar_view)
                ),
                name="bookings_booking_calendar",
            )
        ]
        return extra + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "calendar_url": reverse(
            "admin:bookings_booking_calendar")}  # fmt: skip
        return super().changelist_view(request, extra_context)

    def calendar_view(self, request: HttpRequest) -> HttpResponse:
        """Upcoming bookings on a week or month grid, in the coach's zone."""
        tz_name = coach_zone_name()
        tz = zone(tz_name)
        today = timezone.now().astimezone(tz).date()
        mode = "month" if request.GET.get("view") == "month" else "week"
        try:
            anchor = date.fromisoformat(request.GET.get("date", ""))
        except ValueError:
            anchor = today
        if mode == "week":
            first = anchor - timedelta(days=anchor.weekday())
            days = [first + timedelta(days=i) for i in range(7)]
            prev_anchor, next_anchor = first - timedelta(days=7), first + timedelta(days=7)
        else:
            weeks = calendar.Calendar().monthdatescalendar(anchor.year, anchor.month)
            days = [day for week in weeks for day in week]
            prev_anchor = (anchor.replace(day=1) - timedelta(days=1)).replace(day=1)
            next_anchor = (anchor.replace(day=28) + timedelta(days=4)).replace(day=1)
        start = datetime.combine(days[0], time(0), tzinfo=tz)
        end = datetime.combine(days[-1] + timedelta(days=1), time(0), tzinfo=tz)
        bookings = (
            Booking.objects.filter(start__gte=start, start__lt=end)
            .exclude(status__in=[Booking.Status.EXPIRED, Booking.Status.CANCELLED])
            .select_related("event_type")
            .order_by("start")
        )
        by_day: dict[date, list[dict[str, Any]]] = {day: [] for day in days}
        for booking in bookings:
            local = booking.start.astimezone(tz)
            by_day.setdefault(local.date(), []).append(
                {
                    "booking": booking,
                    "local_start": local,
                    "local_end": booking.end.astimezone(tz),
                    "url": reverse("admin:bookings_booking_change", args=[booking.pk]),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Booking calendar",
            "opts": self.model._meta,
            "mode": mode,
            "tz_name": tz_name,
            "today": today,
            "anchor": anchor,
            "grid": [
                {"date": d, "items": by_day[d], "in_month": d.month == anchor.month} for d in days
            ],  # fmt: skip
            "prev_anchor": prev_anchor,
            "next_anchor": next_anchor,
            "feed_url": feed_url(int(request.user.pk or 0)),
            "weekday_names": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        }
        return TemplateResponse(request, "bookings/admin_calendar.html", context)

    def _mark(self, request: HttpRequest, queryset: QuerySet[Booking], status: str) -> None:
        done = 0
        for booking in queryset:
            try:
                booking.mark(status)
            except BookingStateError as error:
                self.message_user(request, f"{booking}: {error}", messages.WARNING)
            else:
                done += 1
        self.message_user(request, f"{done} booking(s) marked {status.replace('_', ' ')}.")

    @admin.action(description="Mark completed", permissions=["change"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._mark(request, queryset, Booking.Status.COMPLETED)

    @admin.action(description="Mark no-show", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._mark(request, queryset, Booking.Status.NO_SHOW)

    @admin.action(description="Mark late cancellation", permissions=["change"])
    def mark_late_cancel(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        self._mark(request, queryset, Booking.Status.LATE_CANCEL)

    @admin.action(
        description="Cancel (the coach cancels; sends the cancellation)", permissions=["change"]
    )
    def cancel_bookings(self, request: HttpRequest, queryset: QuerySet[Booking]) -> None:
        for booking in queryset:
            try:
                services.cancel_booking(booking=booking, by_coach=True)
            except (services.BookingError, BookingStateError) as error:
                self.message_user(request, f"{booking}: {error}", messages.WARNING)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(ModelAdmin):
    list_display = ["email", "name", "event_type", "status", "created_at", "offered_at"]
    list_filter = ["status", "event_type"]
    search_fields = ["email", "name"]


@admin.register(BusyCalendar)
class BusyCalendarAdmin(ModelAdmin):
    """The coach's own calendars: their busy times block slots; beat reads them every 15 min."""

    form = BusyCalendarForm
    list_display = ["name", "address", "is_active", "last_fetched_at", "events_imported",
                    "last_error"]  # fmt: skip
    list_filter = ["is_active"]
    actions = ["fetch_now"]
    fieldsets = (
        (None, {"fields": ("coach", "name", "url", "is_active")}),
        ("Last refresh", {"fields": ("last_fetched_at", "events_imported", "last_error",
                                     "last_error_at", "expanded_until")}),
    )  # fmt: skip
    readonly_fields = ["last_fetched_at", "events_imported", "last_error", "last_error_at",
                       "expanded_until"]  # fmt: skip

    @admin.display(description="Address")
    def address(self, feed: BusyCalendar) -> str:
        return feed.masked_url

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"coach": request.user.pk}

    def save_model(self, request: HttpRequest, obj: BusyCalendar, form: Any, change: bool) -> None:
        if "url" in form.changed_data:
            obj.forget_cache_headers()
        super().save_model(request, obj, form, change)
        if obj.is_active and (not change or {"url", "is_active"} & set(form.changed_data)):
            # Read it in the background right away rather than at the next beat.
            enqueue_on_commit(tasks.refresh_busy_calendar_task, obj.pk)

    @admin.action(description="Fetch now (in the background)", permissions=["change"])
    def fetch_now(self, request: HttpRequest, queryset: QuerySet[BusyCalendar]) -> None:
        inactive = queryset.filter(is_active=False).count()
        queued = 0
        for feed_id in queryset.filter(is_active=True).values_list("pk", flat=True):
            queued += enqueue(tasks.refresh_busy_calendar_task, feed_id)
        if queued:
            self.message_user(
                request,
                f"{queued} calendar(s) are being fetched in the background: reload this page "
                "in a minute to see the result.",
            )
        if inactive:
            self.message_user(
                request, f"{inactive} inactive calendar(s) skipped: activate them first.",
                messages.WARNING,
            )  # fmt: skip
        if queued < queryset.count() - inactive:
            self.message_user(
                request, "The task queue is unreachable: the next scheduled refresh "
                "(within 15 minutes) will fetch them.", messages.WARNING,
            )  # fmt: skip


# Group sessions, cohorts and seats: their own module, registered when this one loads.
from bookings import group_admin  # noqa: E402, F401
