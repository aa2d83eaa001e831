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


def _model(label: str) -> Any:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _register_cross_app_filters() -> None:
    """Purchases, bookings, pipeline stage: only when those apps have their models.

    Matching is by email, the one key the newsletter shares with them. Each app
    is probed with a guarded get_model so a missing model leaves the filter out.
    """
    order = _model("store.Order")
    if order is not None and "bought_product" not in _filters:

        def bought(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
            emails = _emails_of(order, "paid_orders", value)
            return qs.filter(email_lower__in=emails) if emails is not None else qs.none()

        register_filter(SegmentFilter("bought_product", "Bought a product (slug)", "text", bought))
    booking = _model("bookings.Booking")
    if booking is not None and "booked_call" not in _filters:

        def booked(qs: SubscriberQuerySet, value: Any) -> SubscriberQuerySet:
            emails = _emails_of(booking, "bookings", value)
            return qs.filter(email_lower__in=emails) if emails is not None else qs.none()

        register_filter(SegmentFilter("booked_call", "Booked a call", "bool", booked))


def _emails_of(model: Any, kind: str, value: Any) -> Any:
    """Lower-cased emails from another app's model, by the field names it is likely to use."""
    fields = {f.name for f in model._meta.get_fields()}
    for name in ("email", "customer_email", "buyer_email", "invitee_email"):
        if name in fields:
            from django.db.models.functions import Lower

            qs = model.objects.all()
            if kind == "paid_orders" and value:
                for product_field in ("product__slug", "items__product__slug"):
                    try:
                        return qs.filter(**{product_field: value}).values(lower=Lower(name))
                    except Exception:  # noqa: BLE001, S112 - the other app's schema decides
                        continue
                return None
            return qs.values(lower=Lower(name))
    return None


def segment_queryset(campaign: Campaign) -> SubscriberQuerySet:
    return apply_segment(campaign.mailing_list_id, campaign.segment or {})


def apply_segment(mailing_list_id: int, segment: dict[str, Any]) -> SubscriberQuerySet:
    qs = Subscriber.objects.receiving(mailing_list_id)
    known = {f.name: f for f in available_filters()}
    for name, value in segment.items():
        if value in (None, "", False) and name != "has_account":
            continue
        segment_filter = known.get(name)
        if segment_filter is not None:
            qs = segment_filter.apply(qs, value)
    return qs.filter(~Q(pk__in=[]))
