"""`/api/slots/` and `/api/bookings/`: 400 with a JSON body for bad input, 409 for a taken slot."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bookings import services
from bookings.availability import coach_zone_name, slots_for
from bookings.forms import intake_errors
from bookings.models import EventType
from bookings.serializers import (
    BookingCreateSerializer,
    BookingSerializer,
    SlotListSerializer,
    SlotQuerySerializer,
)
from bookings.slots import zone
from bookings.tokens import manage_url
from coaching import throttles
from coaching.api import THROTTLED, ErrorSerializer


def _error(message: str, status: int, **extra: Any) -> Response:
    return Response({"error": message, **extra}, status=status)


def _invalid(serializer: Any) -> Response:
    return _error("The request is not valid.", 400, fields=serializer.errors)


@extend_schema(
    parameters=[SlotQuerySerializer],
    responses={200: SlotListSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    summary="Free slots of an event type for a range of days, in the visitor's zone",
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def slot_list(request: Request) -> Response:
    query = SlotQuerySerializer(data=request.query_params)
    if not query.is_valid():
        return _invalid(query)
    data = query.validated_data
    event_type = (
        EventType.objects.one_to_one().filter(slug=data["event_type"], is_active=True).first()
    )
    if event_type is None:
        return _error("There is no such event type.", 404)
    tz = zone(data["tz"])
    start = datetime.combine(data["start"], time(0), tzinfo=tz)
    end = datetime.combine(data["end"] + timedelta(days=1), time(0), tzinfo=tz)
    coach_zone = coach_zone_name()
    slots = slots_for(event_type, start=start, end=end, now=timezone.now(), coach_zone=coach_zone)
    # Built by hand: a serializer per slot would cost more than computing them.
    days: list[dict[str, Any]] = []
    for slot in slots:
        local = slot.astimezone(tz)
        day = local.date().isoformat()
        if not days or days[-1]["date"] != day:
            days.append({"date": day, "slots": []})
        days[-1]["slots"].append(
            {
                "start": slot.isoformat()[:19] + "Z",
                "local_time": f"{local.hour:02}:{local.minute:02}",
            }
        )
    return Response(
        {
            "event_type": event_type.slug,
            "time_zone": data["tz"],
            "coach_time_zone": coach_zone,
            "duration_minutes": event_type.duration_minutes,
            "count": len(slots),
            "days": days,
        }
    )


@extend_schema(
    request=BookingCreateSerializer,
    responses={
        201: BookingSerializer,
        400: ErrorSerializer,
        409: OpenApiResponse(ErrorSerializer, description="The slot was just taken."),
        429: THROTTLED,
    },
    summary="Book an offered slot (free calls are confirmed, paid ones wait for payment)",
)
@api_view(["POST"])
@permission_classes([AllowAny])
def booking_create(request: Request) -> Response | JsonResponse:
    payload = BookingCreateSerializer(data=request.data)
    if not payload.is_valid():
        return _invalid(payload)
    data = payload.validated_data
    wait = throttles.check(request, "booking", email=data["email"])
    if wait is not None:
        return throttles.too_many_json(wait, "Too many bookings from here or for this address.")
    event_type = (
        EventType.objects.one_to_one().filter(slug=data["event_type"], is_active=True).first()
    )
    if event_type is None:
        return _error("There is no such event type.", 400, fields={"event_type": ["Unknown."]})
    answers, errors = intake_errors(event_type, data.get("answers") or {})
    if errors:
        return _error("Some answers are not valid.", 400, fields={"answers": errors})
    try:
        booking = services.book_slot(
            event_type=event_type,
            start=data["start"],
            name=data["name"],
            email=data["email"],
            time_zone=data["time_zone"],
            answers=answers,
            user=request.user,
        )
    except services.SlotTaken as error:
        return _error(str(error), 409)
    except services.NoCredits as error:
        return _error(str(error), 400, store_url=reverse("store:list"))
    except services.BookingError as error:
        return _error(str(error), 400, fields={"start": [str(error)]})
    body = BookingSerializer(
        {
            "uid": booking.uid,
            "status": booking.status,
            "event_type": event_type,
            "start": booking.start,
            "end": booking.end,
            "time_zone": booking.time_zone,
            "manage_url": manage_url(booking),
        }
    ).data
    return Response(body, status=201)
