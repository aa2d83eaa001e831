"""Segments: a campaign's list narrowed by an extensible set of named filters.

A campaign stores `segment` as a dict of filter name -> value. Each filter is a
small function from (queryset, value) to queryset. Filters that read other apps
(store, bookings, clients) register themselves only when those models exist,
so the newsletter never imports an app that is not there yet; an app can also
call `register_filter` from its own `ready()` (the hook for purchases,
bookings and pipeline stages).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.dateparse import parse_date

from newsletter.models import Campaign, Subscriber, SubscriberQuerySet

Apply = Callable[[SubscriberQuerySet, Any], SubscriberQuerySet]


@dataclass(frozen=True)
class SegmentFilter:
    name: str
    label: str
    kind: str  # "date", "days", "text", "bool": how the admin asks for the value
    apply: Apply
    help: str = ""


_filters: dict[str, SegmentFilter] = {}


def register_filter(segment_filter: SegmentFilter) -> None:
    _filters[segment_filter.name] = segment_filter


def available_filters() -> list[SegmentFilter]:
    _register_cross_app_filters()
    return list(_filters.values())


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return parse_date(str(value)) if value else None


def _subscribed_after(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    day = _date(value)
    return qs.filter(confirmed_at__date__gte=day) if day else qs


def _subscribed_before(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    day = _date(value)
    return qs.filter(confirmed_at__date__lt=day) if day else qs


def _engaged_within(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    try:
        days = int(value)
    except (TypeError, ValueError):
        return qs
    since = timezone.now() - dt.timedelta(days=days)
    return qs.filter(last_engaged_at__gte=since)


def _has_account(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    return qs.filter(user__isnull=not bool(value))


register_filter(
    SegmentFilter("subscribed_after", "Subscribed on or after", "date", _subscribed_after)
)
register_filter(SegmentFilter("subscribed_before", "Subscribed before", "date", _subscribed_before))
register_filter(
    SegmentFilter(
        "engaged_within_days",
        "Engaged in the last N days",
        "days",
        _engaged_within,
        help="Confirmed, clicked or opened within that many days.",
    )
)
register_filter(SegmentFilter("has_account", "Has an account on the site", "bool", _has_account))


# Filters on what only this platform knows: purchases (store), calls (bookings),
# the client pipeline (clients). Newsletter reads those apps, never the other way
# round, and offers each filter only while the app and model exist (the clients
# app is younger than this one). People are matched by address, lower-cased, or
# by their account.


def _model(label: str) -> Any:
    app_label = label.partition(".")[0]
    if not apps.is_installed(app_label):
        return None
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _people(emails: Any, users: Any = None) -> Q:
    """Subscribers whose address is among `emails` (lower-cased) or whose account is in `users`."""
    condition = Q(email_lower__in=emails)
    if users is not None:
        condition |= Q(user__in=users)
    return condition


def _buyers(value: Any) -> Q:
    Order = _model("store.Order")
    orders = Order.objects.filter(paid_at__isnull=False).exclude(status__in=[Order.Status.REFUNDED])
    slug = str(value).strip()
    if slug and slug.lower() not in {"any", "true", "1", "yes"}:
        orders = orders.filter(items__product__slug=slug)
    return _people(
        orders.annotate(address=Lower("email")).values("address"),
        orders.filter(user__isnull=False).values("user"),
    )


def _bought_product(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    return qs.filter(_buyers(value))


def _booked(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    Booking = _model("bookings.Booking")
    calls = Booking.objects.filter(
        status__in=[
            Booking.Status.CONFIRMED,
            Booking.Status.COMPLETED,
            Booking.Status.NO_SHOW,
            Booking.Status.LATE_CANCEL,
        ]
    )
    condition = _people(
        calls.exclude(email="").annotate(address=Lower("email")).values("address"),
        calls.filter(user__isnull=False).values("user"),
    )
    return qs.filter(condition)


def _stage_contacts(value: Any) -> Any:
    """Contacts at a stage named, or with the role given (lead, discovery, client...)."""
    Contact = _model("clients.Contact")
    wanted = str(value).strip()
    if not wanted:
        return Contact.objects.none()
    at_stage = Q(stage__name__iexact=wanted) | Q(stage__role=wanted.lower())
    if wanted.isdigit():
        at_stage |= Q(stage_id=int(wanted))
    return Contact.objects.filter(at_stage)


def _pipeline_stage(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    contacts = _stage_contacts(value)
    return qs.filter(_people(contacts.values("email"), _contact_users(contacts)))


def _contact_users(contacts: Any) -> Any:
    if not _has_field(contacts.model, "user"):
        return None
    return contacts.filter(user__isnull=False).values("user")


def _active_clients() -> Any:
    """Contacts with a coaching package under way (an active engagement), or at the client stage."""
    Contact = _model("clients.Contact")
    active = Q(stage__role="client")
    if _model("clients.Engagement") is not None:
        active |= Q(engagements__status="active")
    return Contact.objects.filter(active)


def _exclude_active_clients(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
    contacts = _active_clients()
    return qs.exclude(_people(contacts.values("email"), _contact_users(contacts)))


def _has_field(model: Any, name: str) -> bool:
    return any(field.name == name for field in model._meta.get_fields())


CROSS_APP_FILTERS = [
    (
        "bought_product",
        "Bought a product",
        "text",
        "store.Order",
        _bought_product,
        "A product's slug, or 'any' for every buyer. Refunded orders do not count.",
    ),
    (
        "booked_call",
        "Booked a call",
        "bool",
        "bookings.Booking",
        _booked,
        "Anyone with a confirmed or past call.",
    ),
    (
        "pipeline_stage",
        "Client pipeline stage",
        "text",
        "clients.Contact",
        _pipeline_stage,
        "A stage's name, or a role: lead, discovery, client, completed.",
    ),
    (
        "exclude_active_clients",
        "Leave out active clients",
        "bool",
        "clients.Contact",
        _exclude_active_clients,
        "People with a coaching package under way.",
    ),
]


def _register_cross_app_filters() -> None:
    for name, label, kind, model_label, apply, help_text in CROSS_APP_FILTERS:
        if name in _filters:
            continue
        model = _model(model_label)
        if model is None:
            continue
        register_filter(SegmentFilter(name, label, kind, apply, help=help_text))


def segment_queryset(campaign: Campaign) -> SubscriberQuerySet:
    return apply_segment(campaign.mailing_list_id, campaign.segment or {})


def apply_segment(mailing_list_id: int, segment: dict[str, Any]) -> SubscriberQuerySet:
    qs = Subscriber.objects.receiving(mailing_list_id)
    known = {f.name: f for f in available_filters()}
    for name, value in segment.items():
        if value in (None, "", False):
            continue
        segment_filter = known.get(name)
        if segment_filter is not None:
            qs = segment_filter.apply(qs, value)
    return qs
