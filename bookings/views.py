"""The booking pages: pick a day and a time, hold it, answer the intake, confirm, manage.

Everything works as plain links and forms; bookings.js only detects the
visitor's zone and submits the zone picker.
"""

from __future__ import annotations

import calendar
import contextlib
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bookings import ics, payments, services
from bookings.availability import coach_zone_name, slots_for
from bookings.emails import booking_context
from bookings.forms import IntakeForm, WaitlistForm
from bookings.models import Booking, EventType
from bookings.slots import BadZone, zone, zone_names
from bookings.tokens import booking_for_token, coach_for_feed_key, manage_token
from coaching import throttles, times
from store import services as store_services
from store import stripe_gateway

# --- Access helpers -----------------------------------------------------------


def _get_booking_for_token(token: str) -> Booking:
    booking = booking_for_token(token)
    if booking is None:
        raise Http404("No booking for this link.")
    return booking


def _visitor_zone(request: HttpRequest, fallback: str) -> tuple[str, bool]:
    """The zone asked for in ?tz=, else the fallback; and whether the visitor chose it."""
    name = request.GET.get("tz") or request.POST.get("tz") or ""
    try:
        zone(name)
    except BadZone:
        return fallback, False
    return name, True


def _credit_context(request: HttpRequest, event_type: EventType) -> dict[str, Any]:
    """For a package session: whether the visitor can pay with a credit, and where to get one."""
    if event_type.kind != EventType.Kind.PACKAGE:
        return {}
    return {
        "uses_credit": True,
        "has_credit": services.has_usable_credit(request.user),
        "packages_url": reverse("store:list"),
        "login_url": reverse("account_login") + "?" + urlencode({"next": request.get_full_path()}),
    }


def _start_payment(request: HttpRequest, booking: Booking, token: str) -> HttpResponse:
    """Send the visitor to the store checkout for a pending-payment booking."""
    back = reverse("bookings:confirmed", args=[token])
    try:
        url = payments.start_payment(
            booking=booking, success_url=request.build_absolute_uri(back), return_url=back
        )
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect(back)
    return redirect(url)


def _parse_month(value: str | None, today: date) -> date:
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def picker_context(
    request: HttpRequest, event_type: EventType, tz_name: str, *, exclude: Booking | None = None
) -> dict[str, Any]:
    """A month of days with free times in the visitor's zone, and the times of one day."""
    tz = zone(tz_name)
    now = timezone.now()
    today = now.astimezone(tz).date()
    month = _parse_month(request.GET.get("month"), today)
    if month < today.replace(day=1):
        month = today.replace(day=1)
    last_day = date(month.year, month.month, calendar.monthrange(month.year, month.month)[1])
    start = datetime.combine(max(month, today), time(0), tzinfo=tz)
    end = datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=tz)
    slots = slots_for(event_type, start=start, end=end, now=now, exclude=exclude)
    by_day: dict[date, list[datetime]] = {}
    for slot in slots:
        local = slot.astimezone(tz)
        by_day.setdefault(local.date(), []).append(local)
    chosen = None
    try:
        chosen = date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        chosen = None
    if chosen not in by_day:
        chosen = min(by_day) if by_day else None

    def link(**params: Any) -> str:
        return "?" + urlencode({"tz": tz_name, **params})

    weeks = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        weeks.append(
            [
                {
                    "date": day,
                    "in_month": day.month == month.month,
                    "available": day in by_day,
                    "chosen": day == chosen,
                    "link": link(month=f"{month:%Y-%m}", day=day.isoformat()),
                }
                for day in week
            ]
        )
    next_month = (month + timedelta(days=32)).replace(day=1)
    prev_month = (month - timedelta(days=1)).replace(day=1)
    horizon_end = (now + timedelta(days=event_type.horizon_days)).astimezone(tz).date()
    return {
        "tz_name": tz_name,
        "zones": zone_names(),
        "month": month,
        "weeks": weeks,
        "chosen_day": chosen,
        # Labels made here: templates would turn aware datetimes back into UTC.
        "times": [
            {"iso": local.isoformat(), "label": times.clock(local, tz_name)}
            for local in (by_day.get(chosen, []) if chosen else [])
        ],
        "available_days": sorted(by_day),
        "prev_link": link(month=f"{prev_month:%Y-%m}")
        if prev_month >= today.replace(day=1)
        else "",
        "next_link": link(month=f"{next_month:%Y-%m}") if next_month <= horizon_end else "",
        "weekday_names": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    }


# --- Booking ----------------------------------------------------------------


@require_GET
def event_type_list(request: HttpRequest) -> HttpResponse:
    event_types = EventType.objects.one_to_one().filter(is_active=True)
    return render(request, "bookings/event_types.html", {"event_types": event_types})


@require_GET
def event_type_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = get_object_or_404(EventType.objects.one_to_one(), slug=slug, is_active=True)
    coach_zone = coach_zone_name()
    tz_name, chosen = _visitor_zone(request, coach_zone)
    context = {
        "event_type": event_type,
        "coach_zone": coach_zone,
        "zone_chosen": chosen,
        "hold_action": reverse("bookings:hold", args=[event_type.slug]),
        "waitlist_form": WaitlistForm(initial={"time_zone": tz_name}),
        **_credit_context(request, event_type),
        **picker_context(request, event_type, tz_name),
    }
    return render(request, "bookings/event_type.html", context)


def _parse_start(value: str) -> datetime | None:
    """A posted start time, or None for anything that is not a real instant."""
    try:
        return parse_datetime(value[:64])
    except ValueError:  # well-formed but impossible, e.g. month 13
        return None


@require_POST
def hold(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = get_object_or_404(EventType.objects.one_to_one(), slug=slug, is_active=True)
    wait = throttles.check(request, "slot-hold")
    if wait is not None:
        return throttles.too_many(
            request, wait, message="Too many times were held from here in a short while."
        )
    tz_name, _ = _visitor_zone(request, coach_zone_name())
    start = _parse_start(request.POST.get("start", ""))
    back = reverse("bookings:event-type", args=[slug]) + "?" + urlencode({"tz": tz_name})
    if start is None or start.tzinfo is None:
        messages.error(request, "Please pick one of the times shown.")
        return redirect(back)
    if event_type.kind == EventType.Kind.PACKAGE and not services.has_usable_credit(request.user):
        # Checked again, under lock, when the booking is confirmed; this is the early word.
        messages.error(
            request,
            "This session uses a credit from a coaching package, and you have none left."
            if request.user.is_authenticated
            else "This session uses a credit from a coaching package: please sign in first.",
        )
        return redirect(back)
    try:
        booking = services.hold_slot(event_type=event_type, start=start, time_zone=tz_name)
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect(back)
    return redirect("bookings:details", token=manage_token(booking))


@never_cache  # personal: no shared or browser cache may keep it
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, token: str) -> HttpResponse:
    booking = _get_booking_for_token(token)
    if booking.status not in {Booking.Status.HELD, Booking.Status.EXPIRED}:
        return redirect("bookings:manage", token=token)
    event_type = booking.event_type
    initial = {"time_zone": booking.time_zone, "name": booking.name, "email": booking.email}
    user = request.user
    if user.is_authenticated:
        initial.update(name=initial["name"] or user.name, email=initial["email"] or user.email)
    form = IntakeForm(
        request.POST if request.method == "POST" else None, event_type=event_type, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        wait = throttles.check(request, "booking", email=form.cleaned_data["email"])
        if wait is not None:
            return throttles.too_many(
                request, wait, message="Too many bookings were made from here or for this address."
            )
        try:
            booking = services.complete_hold(
                booking=booking,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                answers=form.answers(),
                time_zone=form.cleaned_data["time_zone"],
                user=user,
            )
        except services.BookingError as error:
            form.add_error(None, str(error))
        else:
            if booking.status == Booking.Status.PENDING_PAYMENT and payments.checkout_url(booking):
                return _start_payment(request, booking, token)
            return redirect("bookings:confirmed", token=token)
    status = 200 if request.method == "GET" or form.is_valid() else 400
    return render(
        request,
        "bookings/details.html",
        {
            **booking_context(booking),
            "form": form,
            "token": token,
            "hold_expired": booking.hold_expires_at is not None
            and booking.hold_expires_at <= timezone.now(),
            **_credit_context(request, event_type),
        },
        status=status if form.errors else 200,
    )


@require_POST
def pay(request: HttpRequest, token: str) -> HttpResponse:
    booking = _get_booking_for_token(token)
    return _start_payment(request, booking, token)


@never_cache  # personal: no shared or browser cache may keep it
@require_GET
def confirmed(request: HttpRequest, token: str) -> HttpResponse:
    booking = _get_booking_for_token(token)
    session_id = request.GET.get("session_id", "")
    order = booking.order
    if session_id and order is not None and order.stripe_checkout_session_id == session_id:
        # Back from the checkout: race the webhook (both fulfil once), so the page
        # can say "booked" at once. If Stripe cannot be asked, the webhook does it.
        with contextlib.suppress(stripe_gateway.GatewayError):
            store_services.fulfil_checkout(session_id=session_id)
        booking.refresh_from_db()
    if booking.status == Booking.Status.HELD or (
        booking.status == Booking.Status.EXPIRED and booking.order_id is None
    ):
        return redirect("bookings:details", token=token)
    context = booking_context(booking)
    context["checkout_url"] = (
        payments.checkout_url(booking) if booking.status == Booking.Status.PENDING_PAYMENT else None
    )
    context["token"] = token
    return render(request, "bookings/confirmed.html", context)


# --- Managing one booking -----------------------------------------------------


@never_cache  # personal: no shared or browser cache may keep it
@require_GET
def manage(request: HttpRequest, token: str) -> HttpResponse:
    booking = _get_booking_for_token(token)
    if booking.status == Booking.Status.HELD:
        return redirect("bookings:details", token=token)
    tz_name, _ = _visitor_zone(request, booking.time_zone)
    now = timezone.now()
    context = {
        **booking_context(booking),
        "token": token,
        "can_reschedule": booking.can_reschedule(now),
        "can_cancel": booking.can_cancel(now),
        "cancel_is_late": booking.cancel_is_late(now),
        "is_upcoming": booking.start > now,
        "hold_action": reverse("bookings:reschedule", args=[token]),
        # A time picked here opens the confirm step; only its button moves the call.
        "pick_method": "get",
    }
    if context["can_reschedule"]:
        context.update(picker_context(request, booking.event_type, tz_name, exclude=booking))
    return render(request, "bookings/manage.html", context)


def _manage_with_error(request: HttpRequest, token: str, message: str) -> HttpResponse:
    messages.error(request, message)
    return redirect("bookings:manage", token=token)


@never_cache  # personal: no shared or browser cache may keep it
@require_http_methods(["GET", "POST"])
def reschedule(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the confirm step (old time, new time, what it costs); POST: move the call.

    Picking a time in the manage page's picker only leads here: a change is
    spent by the confirm button, never by a single click on a slot.
    """
    booking = _get_booking_for_token(token)
    start = _parse_start(request.GET.get("start") or request.POST.get("start", ""))
    if start is None or start.tzinfo is None:
        return _manage_with_error(request, token, "Please pick one of the times shown.")
    if request.method == "GET":
        tz_name, _ = _visitor_zone(request, booking.time_zone)
        try:
            if not booking.can_reschedule():
                raise services.PolicyError("This booking can no longer be moved online.")
            services.check_slot(
                event_type=booking.event_type, start=start, now=timezone.now(), exclude=booking
            )
        except services.BookingError as error:
            return _manage_with_error(request, token, str(error))
        end = start + booking.event_type.duration
        context = {
            **booking_context(booking),
            "token": token,
            "tz_name": tz_name,
            "start": start,
            "old_when": times.local_span(booking.start, booking.end, tz_name),
            "new_when": times.local_span(start, end, tz_name),
            "back_url": reverse("bookings:manage", args=[token])
            + "?"
            + urlencode({"tz": tz_name})
            + "#reschedule",
        }
        return render(request, "bookings/reschedule_confirm.html", context)
    try:
        services.reschedule_booking(booking=booking, start=start)
    except services.BookingError as error:
        return _manage_with_error(request, token, str(error))
    messages.success(request, "Your call has moved. A new invitation is on its way.")
    return redirect("bookings:manage", token=token)


@never_cache  # personal: no shared or browser cache may keep it
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token: str) -> HttpResponse:
    """GET: the confirm step, saying what cancelling does to the money; POST: cancel."""
    booking = _get_booking_for_token(token)
    if request.method == "GET":
        now = timezone.now()
        if not booking.can_cancel(now):
            return _manage_with_error(
                request, token, "This booking can no longer be cancelled online."
            )
        context = {
            **booking_context(booking),
            "token": token,
            "cancel_is_late": booking.cancel_is_late(now),
            "can_reschedule": booking.can_reschedule(now),
        }
        return render(request, "bookings/cancel_confirm.html", context)
    try:
        services.cancel_booking(booking=booking)
    except services.BookingError as error:
        return _manage_with_error(request, token, str(error))
    messages.success(request, "Your call is cancelled. A cancellation is on its way by email.")
    return redirect("bookings:manage", token=token)


@require_GET
def invite_file(request: HttpRequest, token: str) -> HttpResponse:
    booking = _get_booking_for_token(token)
    if booking.status not in {Booking.Status.CONFIRMED, Booking.Status.PENDING_PAYMENT}:
        raise Http404("This booking is not on the calendar.")
    response = HttpResponse(ics.download(booking), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="booking.ics"'
    return response


@require_POST
def waitlist_join(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = get_object_or_404(EventType.objects.one_to_one(), slug=slug, is_active=True)
    form = WaitlistForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Please give a name, an email address and a time zone.")
    wait = throttles.check(request, "waitlist", email=form.cleaned_data["email"])
    if wait is not None:
        return throttles.too_many(
            request, wait, message="Too many waiting-list requests from here."
        )
    services.join_waitlist(
        event_type=event_type,
        name=form.cleaned_data["name"],
        email=form.cleaned_data["email"],
        time_zone=form.cleaned_data["time_zone"],
    )
    messages.success(request, "You are on the list. We will email you when an earlier time opens.")
    return redirect(
        reverse("bookings:event-type", args=[slug])
        + "?"
        + urlencode({"tz": form.cleaned_data["time_zone"]})
    )


@require_GET
def coach_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The coach's private calendar subscription; the secret is in the URL."""
    coach_id = coach_for_feed_key(key)
    if coach_id is None:
        raise Http404("No such calendar.")
    since = timezone.now() - timedelta(days=30)
    bookings = (
        Booking.objects.filter(coach_id=coach_id, start__gte=since)
        .filter(status__in=[Booking.Status.CONFIRMED, Booking.Status.COMPLETED])
        .select_related("event_type", "coach")
    )
    body = ics.feed(bookings, name="Coaching calls")
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")
