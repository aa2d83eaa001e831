"""Factories for the clients tests: contacts, packages bought, bookings made."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clients.models import Contact, Engagement, Pipeline, Stage
from tests.bookings.factories import london, make_event_type, next_weekday

_n = itertools.count(1)


def stage(role: str = "", name: str = "") -> Stage:
    pipeline = Pipeline.objects.default()
    if role:
        found = pipeline.stage_for(role)
        assert found is not None
        return found
    return pipeline.stages.get(name=name)


def make_contact(email: str | None = None, **fields: Any) -> Contact:
    from clients import services

    email = email or f"person{next(_n)}@example.com"
    contact = services.contact_for(email=email, name=fields.pop("name", "Pat Person"))
    assert contact is not None
    for key, value in fields.items():
        setattr(contact, key, value)
    if fields:
        contact.save()
    return contact


def make_engagement(contact: Contact, total: int = 3, **fields: Any) -> Engagement:
    return Engagement.objects.create(
        contact=contact, title=fields.pop("title", "Three sessions"), credits_total=total, **fields
    )


def buy_package(user: Any, *, credits: int = 3, validity_days: int = 0) -> Any:
    """A paid order for a coaching package, fulfilled as the store's webhook would."""
    from store.models import Order, OrderItem, Price, Product
    from store.services import sync_access

    n = next(_n)
    product = Product.objects.create(
        kind=Product.Kind.COACHING, slug=f"package-{n}", title="Three sessions",
        summary="Coaching.", session_credits=credits, validity_days=validity_days,
    )  # fmt: skip
    Price.objects.create(product=product, amount=45000)
    order = Order.objects.create(email=user.email, user=user, subtotal=45000, total=45000)
    OrderItem.objects.create(order=order, product=product, title=product.title, unit_amount=45000)
    with transaction.atomic():
        order.mark_paid(payment_intent=f"pi_{n}")
        sync_access(order=order)
    return order


def book(
    coach: Any,
    *,
    email: str,
    kind: str = "discovery",
    days_ahead: int = 3,
    hour: int = 10,
    user: Any = None,
) -> Any:
    """A confirmed booking of an event type of this kind (package ones confirmed as paid)."""
    from bookings import services
    from bookings.models import EventType

    event_type = EventType.objects.filter(kind=kind).first() or make_event_type(
        coach, kind=kind, slug=f"{kind}-call", name=f"{kind.title()} call"
    )
    start = london(next_weekday(days_ahead), hour)
    booking = services.book_slot(
        event_type=event_type, start=start, name="Casey Candidate", email=email,
        time_zone="Europe/London", answers={"goal": "Land an ML role"}, user=user,
    )  # fmt: skip
    if booking.status != "confirmed":
        booking = services.confirm_paid_booking(booking_id=booking.pk, payment_reference="credit")
    return booking


def past(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)
