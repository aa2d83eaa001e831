"""The coach's side of group sessions: schedule dates, see who is coming, take the
register per person, and write to everyone in a session."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from unfold.admin import ModelAdmin, TabularInline

from bookings import seats
from bookings.models import Booking, Cohort, EventType, GroupSession, Seat, check_meeting_url
from bookings.services import BookingError
from bookings.tokens import seat_url
from coaching.admin_site import permission_required_or_403


class GroupSessionForm(forms.ModelForm):
    class Meta:
        model = GroupSession
        fields = ["event_type", "cohort", "start", "capacity", "meeting_url"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        event_type = self.fields["event_type"]
        assert isinstance(event_type, forms.ModelChoiceField)
        event_type.queryset = EventType.objects.group()
        self.fields["capacity"].required = False
        self.fields["capacity"].help_text = "Empty: the event type's number of seats."
        self.fields[
            "meeting_url"
        ].help_text = "Empty: the event type's meeting link (a fresh room when it has {room})."
        if self.instance.pk:
            # The date is fixed once people hold seats: schedule another and let them move.
            for name in ("event_type", "cohort", "start"):
                self.fields[name].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        event_type, start = data.get("event_type"), data.get("start")
        if data.get("meeting_url"):
            check_meeting_url(data["meeting_url"])
        capacity = data.get("capacity")
        if self.instance.pk and capacity is not None and capacity < self.instance.seats_taken:
            self.add_error("capacity", f"{self.instance.seats_taken} seats are taken already.")
        if not self.instance.pk and event_type and start:
            block = Booking(event_type=event_type)
            block.place(start)
            # A friendly message first; the exclusion constraint still decides on save.
            if (
                Booking.objects.blocking()
                .filter(coach_id=event_type.coach_id, during__overlap=block.during)
                .exists()
            ):
                self.add_error("start", "You already have a booking at this time.")
        return data


class SeatInline(TabularInline):
    model = Seat
    extra = 0
    can_delete = False
    fields = ["name", "email", "status", "time_zone", "created_at"]
    readonly_fields = fields
    verbose_name = "attendee"
    verbose_name_plural = "attendees"
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EmailAttendeesForm(forms.Form):
    subject = forms.CharField(max_length=150)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}))


@admin.register(GroupSession)
class GroupSessionAdmin(ModelAdmin):
    form = GroupSessionForm
    list_display = ["__str__", "cohort", "seats_taken", "capacity", "meeting_url"]
    list_filter = ["event_type"]
    date_hierarchy = "start"
    inlines = [SeatInline]

    def save_model(self, request: HttpRequest, obj: GroupSession, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            session = seats.schedule_group_session(
                event_type=obj.event_type,
                start=obj.start,
                cohort=obj.cohort,
                capacity=obj.capacity,
                meeting_url=obj.meeting_url,
            )
        except BookingError:
            raise  # changeform_view turns it into a message; its transaction rolls back
        obj.pk, obj.end, obj.time_block = session.pk, session.end, session.time_block

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BookingError as error:
            # A booking took the time between the form's check and the save: nothing
            # was written (the admin's transaction rolled back); say so, not a 500.
            self.message_user(request, str(error), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def get_urls(self) -> list[URLPattern]:
        custom = [
            path(
                "<int:pk>/email/",
                self.admin_site.admin_view(
                    permission_required_or_403("bookings.change_groupsession")(self.email_view)
                ),
                name="bookings_groupsession_email",
            )
        ]
        return custom + super().get_urls()

    def email_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = get_object_or_404(GroupSession.objects.select_related("event_type"), pk=pk)
        form = EmailAttendeesForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            count = seats.email_attendees(
                session=session,
                subject=form.cleaned_data["subject"],
                message=form.cleaned_data["message"],
            )
            self.message_user(request, f"Emailed {count} attendee(s).", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:bookings_groupsession_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Email everyone in {session}",
            "session": session,
            "attendees": session.seats.attendees(),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "bookings/admin_email_attendees.html", context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        extra = {
            **(extra_context or {}),
            "email_url": reverse("admin:bookings_groupsession_email", args=[object_id]),
        }
        return super().change_view(request, object_id, form_url, extra)


@admin.register(Cohort)
class CohortAdmin(ModelAdmin):
    list_display = ["name", "event_type", "created_at"]
    list_filter = ["event_type"]


@admin.register(Seat)
class SeatAdmin(ModelAdmin):
    list_display = ["name", "email", "session", "status", "created_at"]
    list_filter = ["status", "session__event_type"]
    search_fields = ["email", "name"]
    readonly_fields = [
        "session", "cohort", "user", "name", "email", "time_zone", "status", "hold_expires_at",
        "price_amount", "order", "credit_grant", "credit_returned_at", "from_waitlist",
        "policy", "sequence", "created_at", "confirmed_at", "cancelled_at", "manage_link",
    ]  # fmt: skip
    exclude = ["uid"]
    actions = ["mark_attended", "mark_no_show", "cancel_seats"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # seats are booked from the workshop page, through the guard

    @admin.display(description="Attendee's link")
    def manage_link(self, seat: Seat) -> str:
        return seat_url(seat)

    def _mark(self, request: HttpRequest, queryset: QuerySet[Seat], status: str) -> None:
        done = 0
        for seat in queryset:
            try:
                seats.mark_attendance(seat=seat, status=status)
                done += 1
            except BookingError as error:
                self.message_user(request, f"{seat.email}: {error}", messages.WARNING)
        self.message_user(request, f"Marked {done} seat(s).", messages.SUCCESS)

    @admin.action(description="Mark attended", permissions=["change"])
    def mark_attended(self, request: HttpRequest, queryset: QuerySet[Seat]) -> None:
        self._mark(request, queryset, Seat.Status.ATTENDED)

    @admin.action(description="Mark no-show (the seat counts as used)", permissions=["change"])
    def mark_no_show(self, request: HttpRequest, queryset: QuerySet[Seat]) -> None:
        self._mark(request, queryset, Seat.Status.NO_SHOW)

    @admin.action(description="Cancel seats (credit back, seat to the waitlist)",
                  permissions=["change"])  # fmt: skip
    def cancel_seats(self, request: HttpRequest, queryset: QuerySet[Seat]) -> None:
        done = 0
        for seat in queryset:
            try:
                seats.cancel_seat(seat=seat, by_coach=True)
                done += 1
            except BookingError as error:
                self.message_user(request, f"{seat.email}: {error}", messages.WARNING)
        self.message_user(request, f"Cancelled {done} seat(s).", messages.SUCCESS)
