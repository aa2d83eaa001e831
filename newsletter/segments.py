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


# Filters that need another app's data, by model label. Each such model is
# expected to offer `newsletter_emails(value)` on its default manager, returning
# lower-cased emails (for example the buyers of a product slug). Until the
# model exists, or while it lacks that method, the filter is simply not offered.
CROSS_APP_FILTERS = [
    ("bought_product", "Bought a product (slug, or 'any')", "text", "store.Order"),
    ("booked_call", "Booked a call", "bool", "bookings.Booking"),
    ("pipeline_stage", "Client pipeline stage (slug)", "text", "clients.Contact"),
    ("exclude_active_clients", "Leave out active clients", "bool", "clients.Contact"),
]


def _register_cross_app_filters() -> None:
    for name, label, kind, model_label in CROSS_APP_FILTERS:
        if name in _filters:
            continue
        try:
            model = apps.get_model(model_label)
        except (LookupError, ValueError):
            continue
        emails_for = getattr(model.objects, "newsletter_emails", None)
        if emails_for is None:
            continue
        exclude = name.startswith("exclude_")

        def apply(
            qs: SubscriberQuerySet,
            value: Any,
            emails_for: Any = emails_for,
            exclude: bool = exclude,
        ) -> SubscriberQuerySet:
            emails = emails_for(value)
            if exclude:
                return qs.exclude(email_lower__in=emails)
            return qs.filter(email_lower__in=emails)

        register_filter(SegmentFilter(name, label, kind, apply))


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
