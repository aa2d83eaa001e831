"""A rule's "if": filters on contacts, checked by the dry run and again when a step is due.

A condition is a dict of filter name -> value, the shape of a campaign's segment.
The contact filters below read the CRM and the store; any of the newsletter's
segment filters (newsletter/segments.py: engaged within N days, has an account,
subscribed before...) works too, applied to the person's subscriber row, so a
person who is not a subscriber does not match those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from clients.models import Contact, Engagement
from newsletter import segments
from newsletter.models import Subscriber, Subscription
from store.models import Order


@dataclass(frozen=True)
class ContactFilter:
    name: str
    label: str
    apply: Callable[[QuerySet[Contact], Any], QuerySet[Contact]]
    help: str = ""


def _orders(value: Any) -> QuerySet[Order]:
    orders = Order.objects.filter(paid_at__isnull=False).exclude(status=Order.Status.REFUNDED)
    slug = str(value).strip()
    if slug and slug.lower() not in {"any", "true", "1", "yes"}:
        orders = orders.filter(items__product__slug=slug)
    return orders.annotate(address=Lower("email")).filter(address=OuterRef("email"))


def _bought(qs: QuerySet[Contact], value: Any) -> QuerySet[Contact]:
    return qs.filter(Exists(_orders(value)))


def _not_bought(qs: QuerySet[Contact], value: Any) -> QuerySet[Contact]:
    return qs.filter(~Exists(_orders(value)))


def _at_stage(value: Any) -> Q:
    wanted = str(value).strip()
    condition = Q(stage__name__iexact=wanted) | Q(stage__role=wanted.lower())
    return condition | Q(stage_id=int(wanted)) if wanted.isdigit() else condition


def _stage(qs: QuerySet[Contact], value: Any) -> QuerySet[Contact]:
    return qs.filter(_at_stage(value))


def _not_stage(qs: QuerySet[Contact], value: Any) -> QuerySet[Contact]:
    return qs.exclude(_at_stage(value))


def _active_package(qs: QuerySet[Contact], value: Any) -> QuerySet[Contact]:
    active = Exists(
        Engagement.objects.filter(contact=OuterRef("pk"), status=Engagement.Status.ACTIVE)
    )
    wanted = value is True or str(value).strip().lower() in {"true", "1", "yes"}
    return qs.filter(active if wanted else ~active)


def _on_list(qs: QuerySet[Contact], value: Any) -> QuerySet[Contact]:
    held = Subscription.objects.filter(
        subscriber__email_lower=OuterRef("email"),
        subscriber__status=Subscriber.Status.CONFIRMED,
        mailing_list__slug=str(value).strip(),
        status=Subscription.Status.SUBSCRIBED,
    )
    return qs.filter(Exists(held))


CONTACT_FILTERS = {
    item.name: item
    for item in [
        ContactFilter("bought", "Bought a product", _bought, "A product's slug, or 'any'."),
        ContactFilter("not_bought", "Has not bought", _not_bought, "A product's slug, or 'any'."),
        ContactFilter("stage", "At pipeline stage", _stage, "A stage's name or role."),
        ContactFilter("not_stage", "Not at pipeline stage", _not_stage, "A stage's name or role."),
        ContactFilter("active_package", "Has a package under way", _active_package, "true/false"),
        ContactFilter("on_list", "On a newsletter list", _on_list, "The list's slug."),
    ]
}


def known_names() -> list[str]:
    return [*CONTACT_FILTERS, *(item.name for item in segments.available_filters())]


def matching(qs: QuerySet[Contact], condition: dict[str, Any]) -> QuerySet[Contact]:
    """The contacts of `qs` that meet every filter of `condition` (unknown names refuse all)."""
    newsletter = {item.name: item for item in segments.available_filters()}
    for name, value in (condition or {}).items():
        if value in (None, ""):
            continue
        if name in CONTACT_FILTERS:
            qs = CONTACT_FILTERS[name].apply(qs, value)
        elif name in newsletter:
            subscribers = newsletter[name].apply(Subscriber.objects.confirmed(), value)
            qs = qs.filter(email__in=subscribers.values("email_lower"))
        else:
            # A filter that no longer exists (an app removed) must not widen the audience.
            return qs.none()
    return qs


def matches(contact: Contact, condition: dict[str, Any]) -> bool:
    if not any(value not in (None, "") for value in (condition or {}).values()):
        return True  # no filter: everyone, without asking the database
    return matching(Contact.objects.filter(pk=contact.pk), condition).exists()
