"""Signed links: the candidate's manage link and the coach's private calendar feed."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core import signing

from bookings.models import Booking

MANAGE_SALT = "bookings.manage"
FEED_SALT = "bookings.coach-feed"


def manage_token(booking: Booking) -> str:
    # The uid is random and the signature proves we issued it: a guessed or
    # edited token never finds a booking.
    return signing.Signer(salt=MANAGE_SALT).sign(booking.uid.hex)


def booking_for_token(token: str) -> Booking | None:
    try:
        uid = signing.Signer(salt=MANAGE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    try:
        key = uuid.UUID(hex=uid)
    except ValueError:
        return None
    return Booking.objects.select_related("event_type", "coach").filter(uid=key).first()


def manage_url(booking: Booking) -> str:
    return f"{settings.SITE_URL}/bookings/{manage_token(booking)}/"


def feed_key(coach_id: int) -> str:
    return signing.Signer(salt=FEED_SALT).sign(str(coach_id)).replace(":", "-")


def coach_for_feed_key(key: str) -> int | None:
    value, _, signature = key.partition("-")
    try:
        coach_id = signing.Signer(salt=FEED_SALT).unsign(f"{value}:{signature}")
    except signing.BadSignature:
        return None
    return int(coach_id) if coach_id.isdigit() else None


def feed_url(coach_id: int) -> str:
    return f"{settings.SITE_URL}/bookings/calendar/{feed_key(coach_id)}.ics"


SEAT_SALT = "bookings.seat"


def seat_token(seat: Any) -> str:
    return signing.Signer(salt=SEAT_SALT).sign(seat.uid.hex)


def seat_for_token(token: str) -> Any:
    """The seat a signed link names, or None (a guessed or edited token finds nothing)."""
    from bookings.models import Seat

    try:
        uid = signing.Signer(salt=SEAT_SALT).unsign(token)
        key = uuid.UUID(hex=uid)
    except (signing.BadSignature, ValueError):
        return None
    return (
        Seat.objects.select_related("session__event_type__coach", "cohort").filter(uid=key).first()
    )


def seat_url(seat: Any) -> str:
    return f"{settings.SITE_URL}/workshops/seat/{seat_token(seat)}/"
