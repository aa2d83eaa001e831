"""Workshop pages: upcoming group sessions with the seats left, booking a seat, the seat
waitlist, and each attendee's own page (move, cancel, claim a held seat).

Plain links and forms; bookings.js only detects the visitor's zone.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from bookings import payments, seats, services
from bookings.availability import coach_zone_name
from bookings.emails import seat_context
from bookings.forms import WaitlistForm
from bookings.models import EventType, GroupSession, Seat
from bookings.slots import zone_names
from bookings.tokens import seat_for_token, seat_token
from bookings.views import _visitor_zone
from coaching import throttles, times


class SeatForm(WaitlistForm):
    """Name, email and zone (the waitlist's fields), and the session chosen."""

    session = forms.IntegerField(widget=forms.HiddenInput)


def _zone_context(request: HttpRequest) -> dict[str, Any]:
    tz_name, chosen = _visitor_zone(request, coach_zone_name())
    return {"tz_name": tz_name, "zone_chosen": chosen, "zones": zone_names()}


def _session_rows(sessions: Any, tz_name: str) -> list[dict[str, Any]]:
    return [
        {
            "session": s,
            "when": times.local_span(s.start, s.end, tz_name),
            "seats_left": s.seats_left,
        }
        for s in sessions
    ]


@require_GET
def workshop_list(request: HttpRequest) -> HttpResponse:
    context = _zone_context(request)
    sessions = GroupSession.objects.upcoming().select_related("event_type", "cohort")
    by_type: dict[int, dict[str, Any]] = {}
    for session in sessions:
        entry = by_type.setdefault(
            session.event_type_id, {"event_type": session.event_type, "sessions": []}
        )
        # A cohort is sold whole: list it once, by its first session.
        if session.cohort_id and any(s.cohort_id == session.cohort_id for s in entry["sessions"]):
            continue
        entry["sessions"].append(session)
    workshops = [
        {**entry, "rows": _session_rows(entry["sessions"][:4], context["tz_name"])}
        for entry in by_type.values()
    ]
    return render(request, "bookings/workshops.html", {**context, "workshops": workshops})


def _detail_context(request: HttpRequest, event_type: EventType, form: Any = None) -> dict:
    context = _zone_context(request)
    tz_name = context["tz_name"]
    sessions = list(
        GroupSession.objects.upcoming().filter(event_type=event_type).select_related("cohort")
    )
    rows = _session_rows(sessions, tz_name)
    if event_type.series_length > 1:
        # One row per cohort: its dates, and the seats left in its fullest session.
        cohorts: dict[int, dict[str, Any]] = {}
        for row in rows:
            cohort_id = row["session"].cohort_id
            if cohort_id is None:
                continue
            entry = cohorts.setdefault(
                cohort_id, {**row, "dates": [], "cohort": row["session"].cohort}
            )
            entry["dates"].append(row["when"])
            entry["seats_left"] = min(entry["seats_left"], row["seats_left"])
        rows = list(cohorts.values())
    return {
        **context,
        "event_type": event_type,
        "rows": rows,
        "form": form,
        "uses_credit": event_type.kind == EventType.Kind.PACKAGE,
        "login_url": reverse("account_login") + "?" + urlencode({"next": request.path}),
        "packages_url": reverse("store:list"),
    }


@require_GET
def workshop_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = get_object_or_404(EventType.objects.group(), slug=slug, is_active=True)
    return render(request, "bookings/workshop.html", _detail_context(request, event_type))


@require_POST
def seat_book(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = get_object_or_404(EventType.objects.group(), slug=slug, is_active=True)
    wait = throttles.check(request, "slot-hold")
    if wait is not None:
        return throttles.too_many(request, wait, message="Too many seats were booked from here.")
    form = SeatForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, event_type, form)
        return render(request, "bookings/workshop.html", context, status=400)
    data = form.cleaned_data
    # A seat is booked, and its invitation sent, in this one step: a booking like any other.
    wait = throttles.check(request, "booking", email=data["email"])
    if wait is not None:
        return throttles.too_many(
            request, wait, message="Too many bookings were made from here or for this address."
        )
    session = (
        GroupSession.objects.upcoming()
        .filter(event_type=event_type, pk=data["session"])
        .select_related("event_type__coach", "cohort")
        .first()
    )
    if session is None:
        form.add_error(None, "That date is no longer offered: please pick another.")
        return render(
            request,
            "bookings/workshop.html",
            _detail_context(request, event_type, form),
            status=400,
        )
    try:
        booked = seats.book_seat(
            session=session, name=data["name"], email=data["email"],
            time_zone=data["time_zone"], user=request.user,
        )  # fmt: skip
    except services.BookingError as error:
        form.add_error(None, str(error))
        status = 409 if isinstance(error, services.SlotTaken) else 400
        return render(
            request,
            "bookings/workshop.html",
            _detail_context(request, event_type, form),
            status=status,
        )
    token = seat_token(booked[0])
    if event_type.kind == EventType.Kind.PAID:
        return _pay(request, booked[0], token)
    messages.success(request, "Your seat is booked: the invitation is on its way.")
    return redirect("bookings:seat", token=token)


@require_POST
def seat_waitlist(request: HttpRequest, slug: str) -> HttpResponse:
    event_type = get_object_or_404(EventType.objects.group(), slug=slug, is_active=True)
    form = SeatForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "bookings/workshop.html",
            _detail_context(request, event_type, form),
            status=400,
        )
    wait = throttles.check(request, "waitlist", email=form.cleaned_data["email"])
    if wait is not None:
        return throttles.too_many(
            request, wait, message="Too many waiting-list requests from here."
        )
    session = get_object_or_404(
        GroupSession.objects.upcoming(), event_type=event_type, pk=form.cleaned_data["session"]
    )
    seats.join_seat_waitlist(
        session=session, name=form.cleaned_data["name"], email=form.cleaned_data["email"],
        time_zone=form.cleaned_data["time_zone"],
    )  # fmt: skip
    messages.success(request, "You are on the waitlist. We will email you if a seat opens.")
    return redirect(
        reverse("bookings:workshop", args=[slug])
        + "?"
        + urlencode({"tz": form.cleaned_data["time_zone"]})
    )


# --- The attendee's own seat ----------------------------------------------------


def _seat(token: str) -> Seat:
    seat = seat_for_token(token)
    if seat is None:
        raise Http404("No seat for this link.")
    return seat


@never_cache
@require_GET
def seat_manage(request: HttpRequest, token: str) -> HttpResponse:
    seat = _seat(token)
    now = timezone.now()
    others = []
    if seat.can_change(now) and seat.status == Seat.Status.CONFIRMED and seat.cohort_id is None:
        others = _session_rows(
            GroupSession.objects.upcoming()
            .filter(event_type=seat.session.event_type_id)
            .with_seats_left()
            .exclude(pk=seat.session_id),
            seat.time_zone,
        )
    context = {
        **seat_context(seat),
        "token": token,
        "can_change": seat.can_change(now),
        "cancel_is_late": seat.cancel_is_late(now),
        "is_held": seat.status == Seat.Status.HELD
        and seat.hold_expires_at is not None
        and seat.hold_expires_at > now,
        "hold_until": times.local_datetime(seat.hold_expires_at, seat.time_zone)
        if seat.hold_expires_at
        else "",
        "others": others,
    }
    return render(request, "bookings/seat.html", context)


def _act(request: HttpRequest, token: str, verb: Any, done: str, **kwargs: Any) -> HttpResponse:
    seat = _seat(token)
    try:
        verb(seat=seat, **kwargs)
    except services.BookingError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("bookings:seat", token=token)


@require_POST
def seat_cancel(request: HttpRequest, token: str) -> HttpResponse:
    return _act(request, token, seats.cancel_seat, "Your seat is cancelled.")


@require_POST
def seat_claim(request: HttpRequest, token: str) -> HttpResponse:
    seat = _seat(token)
    try:
        seat = seats.claim_held_seat(seat=seat, user=request.user)
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect("bookings:seat", token=token)
    if seat.status == Seat.Status.PENDING_PAYMENT:
        return _pay(request, seat, token)
    messages.success(request, "The seat is yours: the invitation is on its way.")
    return redirect("bookings:seat", token=token)


@require_POST
def seat_pay(request: HttpRequest, token: str) -> HttpResponse:
    return _pay(request, _seat(token), token)


def _pay(request: HttpRequest, seat: Seat, token: str) -> HttpResponse:
    """To the store's checkout for this seat (and its cohort's seats on the same order)."""
    back = reverse("bookings:seat", args=[token])
    unpaid = [seat]
    if seat.cohort_id is not None:
        unpaid = list(
            Seat.objects.filter(
                cohort_id=seat.cohort_id, email=seat.email, status=Seat.Status.PENDING_PAYMENT
            )
        )
    try:
        url = payments.start_seat_payment(
            unpaid=unpaid, success_url=request.build_absolute_uri(back), return_url=back
        )
    except services.BookingError as error:
        messages.error(request, str(error))
        return redirect(back)
    return redirect(url)


@require_POST
def seat_move(request: HttpRequest, token: str) -> HttpResponse:
    seat = _seat(token)
    target = (
        GroupSession.objects.upcoming()
        .filter(
            event_type=seat.session.event_type_id, pk=request.POST.get("session", "").strip() or 0
        )
        .first()
        if request.POST.get("session", "").strip().isdigit()
        else None
    )
    if target is None:
        messages.error(request, "Pick one of the dates shown.")
        return redirect("bookings:seat", token=token)
    return _act(
        request,
        token,
        seats.move_seat,
        "Your seat is moved: a new invitation is on its way.",
        to=target,
    )
