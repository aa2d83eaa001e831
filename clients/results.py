"""Results the coach can show: offer figures, the testimonial asked after an offer,
and what may be published of both.

Figures are computed from the structured fields of offers (`Outcome`), never from
free text. The public side (/results/, the service pages) shows only approved
testimonials, and of each only what its client consented to.
"""

from __future__ import annotations

import statistics
import uuid
from collections import Counter
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from clients.dashboard import coach_zone
from clients.models import Outcome, OutcomeQuerySet, TestimonialRequest
from coaching.emails import queue_email
from coaching.models import Testimonial

TOKEN_SALT = "clients.testimonial"


# --- Recording an offer asks for a testimonial -------------------------------------------


def record_outcome(outcome: Outcome) -> Outcome:
    """Save an outcome; a new offer also asks its client for a testimonial (once)."""
    created = outcome.pk is None
    with transaction.atomic():
        outcome.save()
        if created and outcome.kind == Outcome.Kind.OFFER:
            request_testimonial(outcome)
    return outcome


def request_testimonial(outcome: Outcome) -> TestimonialRequest:
    """One request per offer (unique on the outcome); its email is keyed, so it goes once."""
    request, _ = TestimonialRequest.objects.get_or_create(outcome=outcome)
    contact = outcome.contact
    queue_email(
        key=f"clients-testimonial-request-{outcome.pk}",
        to=contact.email,
        template="clients-testimonial-request",
        context={"contact": contact, "outcome": outcome, "form_url": form_url(request)},
    )
    return request


def token_for(request: TestimonialRequest) -> str:
    return signing.Signer(salt=TOKEN_SALT).sign(request.uid.hex)


def request_for_token(token: str) -> TestimonialRequest | None:
    try:
        key = uuid.UUID(hex=signing.Signer(salt=TOKEN_SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        return None
    return TestimonialRequest.objects.select_related("outcome__contact").filter(uid=key).first()


def form_url(request: TestimonialRequest) -> str:
    return f"{settings.SITE_URL}/results/testimonial/{token_for(request)}/"


def answer_testimonial(
    *, request: TestimonialRequest, quote: str, name_shown: str, show_company: bool,
    show_figures: bool, now: datetime | None = None,
) -> TestimonialRequest:  # fmt: skip
    with transaction.atomic():
        request = TestimonialRequest.objects.select_for_update().get(pk=request.pk)
        request.answer(
            quote=quote.strip(), name_shown=name_shown, show_company=show_company,
            show_figures=show_figures, now=now or timezone.now(),
        )  # fmt: skip
    return request


def approve_testimonial(
    *, request: TestimonialRequest, now: datetime | None = None
) -> TestimonialRequest:
    """Publish the quote as the coach's testimonial, worded as the client consented.

    It shows on /results/ and, through `Testimonial.offer`, on the service's page.
    """
    with transaction.atomic():
        request = (
            TestimonialRequest.objects.select_for_update(of=("self",))
            .select_related("outcome__contact", "outcome__service")
            .get(pk=request.pk)
        )
        request.approve(now=now or timezone.now())
        shown = public_entry(request)
        request.testimonial = Testimonial.objects.create(
            quote=request.quote,
            author=shown["author"],
            role=shown["role"][:160],
            outcome=shown["figures"][:160],
            offer=request.outcome.service,
            is_published=True,
        )
        request.save(update_fields=["testimonial"])
    return request


def decline_testimonial(*, request: TestimonialRequest) -> TestimonialRequest:
    """Not published (or taken down): the coach's testimonial row is unpublished too."""
    with transaction.atomic():
        request = TestimonialRequest.objects.select_for_update().get(pk=request.pk)
        request.decline()
        testimonial = request.testimonial
        if testimonial is not None and testimonial.is_published:
            # save(), not update(): the cached service and home pages listen for it.
            testimonial.is_published = False
            testimonial.save(update_fields=["is_published"])
    return request


# --- What may be shown -----------------------------------------------------------------


def initials(name: str) -> str:
    parts = [part for part in name.replace("-", " ").split() if part[:1].isalpha()]
    return " ".join(f"{part[0].upper()}." for part in parts) or "A client"


def days_to_offer(outcome: Any) -> int | None:
    """Days from the first call (annotated by `with_first_call`) to the offer."""
    first = getattr(outcome, "first_call_at", None)
    if first is None:
        return None
    days = (outcome.occurred_on - first.astimezone(coach_zone()).date()).days
    return days if days >= 0 else None


def money(amount: int, currency: str) -> str:
    symbol = {"GBP": "£", "USD": "$", "EUR": "€"}.get(currency.upper())
    return f"{symbol}{amount:,}" if symbol else f"{amount:,} {currency.upper()}"


def public_entry(request: TestimonialRequest) -> dict[str, str]:
    """The published wording: each part only as far as the client's consent goes."""
    outcome = request.outcome
    contact = outcome.contact
    name = contact.name or ""
    full = request.name_shown == TestimonialRequest.NameShown.FULL and name
    author = name if full else initials(name)
    role = outcome.role or "New role"
    if outcome.level and outcome.level.lower() not in role.lower():
        role = f"{role} ({outcome.level})"
    if request.show_company and outcome.company:
        role = f"{role} at {outcome.company}"
    figures = ""
    if request.show_figures:
        bits = []
        uplift = outcome.uplift_percent
        if uplift is not None:
            bits.append(f"{uplift:+.0f}% total pay")
        if outcome.total:
            bits.append(f"{money(outcome.total, outcome.currency)} a year")
        days = days_to_offer(Outcome.objects.with_first_call().get(pk=outcome.pk))
        if days is not None:
            bits.append(f"offer {weeks(days)} after the first call")
        figures = ", ".join(bits)
    return {"author": author, "role": role, "figures": figures}


def weeks(days: int) -> str:
    count = max(1, round(days / 7))
    return f"{count} week{'s' if count != 1 else ''}"


# --- Figures ---------------------------------------------------------------------------


def quarter(day: date) -> str:
    return f"{day.year} Q{(day.month - 1) // 3 + 1}"


def figures(offers: OutcomeQuerySet) -> dict[str, Any]:
    """Offers per quarter, median uplift and time to offer, roles and companies."""
    rows = list(offers.offers().with_first_call().order_by("occurred_on"))
    per_quarter = Counter(quarter(o.occurred_on) for o in rows)
    uplifts = [o.uplift_percent for o in rows if o.uplift_percent is not None]
    days = [d for d in (days_to_offer(o) for o in rows) if d is not None]
    roles = Counter(o.role for o in rows if o.role).most_common(8)
    companies = Counter(o.company for o in rows if o.company).most_common(8)
    return {
        "count": len(rows),
        "quarters": list(per_quarter),
        "per_quarter": list(per_quarter.values()),
        "median_uplift": statistics.median(uplifts) if uplifts else None,
        "median_days_to_offer": statistics.median(days) if days else None,
        "uplift_count": len(uplifts),
        "days_count": len(days),
        "roles": roles,
        "companies": companies,
    }


def published() -> list[TestimonialRequest]:
    return list(
        TestimonialRequest.objects.approved()
        .filter(testimonial__is_published=True)
        .select_related("outcome__contact", "outcome__service")
        .order_by("-approved_at")
    )


def public_figures() -> dict[str, Any]:
    """Headline figures over the offers whose clients allowed their figures to be shown."""
    consented = Outcome.objects.filter(
        testimonial_request__status=TestimonialRequest.Status.APPROVED,
        testimonial_request__show_figures=True,
    )
    return figures(consented)
