"""The client portal: a signed-in client's own sessions, credits, shared notes and outcomes;
and the public contact form, which feeds the same contacts.

Everything is read through `_contact_for(request)`: rows are looked up within
that contact only, so another person's id answers 404, never their data.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clients import results
from clients.forms import CONTACT_TOPICS, ContactForm, TestimonialForm, contact_form_token
from clients.models import Contact, Engagement, Note
from clients.services import receive_contact_message
from clients.testimonials import TestimonialStateError
from coaching import seo, throttles
from coaching.pagecache import cache_for_visitors

# Generous for a person writing twice, tight for a script: per address and per IP.


def _contact_for(request: HttpRequest) -> Contact | None:
    return Contact.objects.for_user(request.user)


def _object_page_access(request: HttpRequest) -> Contact:
    """Object pages answer 404 to anyone who is not their owner, signed in or not."""
    if not request.user.is_authenticated:
        raise Http404("Sign in to see this page.")
    contact = _contact_for(request)
    if contact is None:
        raise Http404("Nothing here.")
    return contact


@never_cache  # personal: no shared or browser cache may keep it
@login_required
def portal(request: HttpRequest) -> HttpResponse:
    from bookings.models import Booking
    from bookings.tokens import manage_token

    user = request.user
    assert user.is_authenticated  # login_required
    contact = _contact_for(request)
    upcoming = (
        Booking.objects.upcoming()
        .filter(Q(user=user) | Q(email__iexact=user.email))
        .select_related("event_type")[:10]
    )
    context = {
        "contact": contact,
        "upcoming": [
            {
                "booking": booking,
                "manage_url": reverse("bookings:manage", args=[manage_token(booking)]),
            }
            for booking in upcoming
        ],
        "engagements": list(contact.engagements.exclude(status=Engagement.Status.CANCELLED))
        if contact
        else [],
        "notes": list(contact.notes.filter(is_shared=True)[:50]) if contact else [],
        "outcomes": list(contact.outcomes.all()) if contact else [],
        "now": timezone.now(),
    }
    return render(request, "clients/portal.html", context)


@never_cache  # personal: no shared or browser cache may keep it
def note(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _object_page_access(request)
    shared = get_object_or_404(Note, pk=pk, contact=contact, is_shared=True)
    return render(request, "clients/portal_note.html", {"note": shared})


@never_cache  # personal: no shared or browser cache may keep it
def engagement(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _object_page_access(request)
    found = get_object_or_404(Engagement, pk=pk, contact=contact)
    sessions = found.sessions.order_by("-starts_at")
    return render(
        request, "clients/portal_engagement.html", {"engagement": found, "sessions": sessions}
    )


@never_cache
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, initial={"started": contact_form_token()})
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()[:254]
        wait = throttles.check(request, "contact", email=email)
        if wait is not None:
            return throttles.too_many(
                request,
                wait,
                message="Several messages were sent from here just now. "
                "Please wait a little before sending another.",
            )
        if form.is_valid():
            if not form.looks_automated:
                data = form.cleaned_data
                receive_contact_message(
                    name=data["name"],
                    email=data["email"],
                    topic=dict(CONTACT_TOPICS)[data["topic"]],
                    message=data["message"],
                    user=request.user if request.user.is_authenticated else None,
                )
            return redirect("clients:contact-thanks")
        # The first token is kept, so fixing a typo quickly is never "too fast"; only
        # an expired one is renewed.
        if "started" in form.errors:
            data = request.POST.copy()
            data["started"] = contact_form_token()
            form.data = data
    return render(
        request,
        "clients/contact.html",
        {
            "form": form,
            "share": seo.share(
                title="Contact",
                description="Write to the coach about coaching, training, consulting or speaking.",
                path="/contact/",
            ),
        },
    )


@require_GET
@cache_for_visitors()
def contact_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "clients/contact_thanks.html")


# --- Results: the public page and the testimonial form ---------------------------------


@require_GET
def results_page(request: HttpRequest) -> HttpResponse:
    """Approved testimonials, each worded as its client consented, and headline figures
    over the offers whose clients allowed their figures to be shown."""
    # Each testimonial was worded at approval from its client's consent (results.public_entry).
    context: dict[str, Any] = {
        "testimonials": [r.testimonial for r in results.published()],
        "figures": results.public_figures(),
    }
    if context["figures"]["median_days_to_offer"] is not None:
        context["median_weeks"] = results.weeks(int(context["figures"]["median_days_to_offer"]))
    return render(request, "clients/results.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def testimonial_form(request: HttpRequest, token: str) -> HttpResponse:
    found = results.request_for_token(token)
    if found is None:
        raise Http404("No testimonial request for this link.")
    decided = found.status in {found.Status.APPROVED, found.Status.DECLINED}
    initial = {
        "quote": found.quote,
        "name_shown": found.name_shown if found.answered_at else None,
        "show_company": ("yes" if found.show_company else "no") if found.answered_at else None,
        "show_figures": ("yes" if found.show_figures else "no") if found.answered_at else None,
    }
    form = TestimonialForm(request.POST or None, initial=initial)
    if request.method == "POST" and not decided and form.is_valid():
        data = form.cleaned_data
        try:
            results.answer_testimonial(
                request=found, quote=data["quote"], name_shown=data["name_shown"],
                show_company=data["show_company"] == "yes",
                show_figures=data["show_figures"] == "yes",
            )  # fmt: skip
        except TestimonialStateError as error:
            form.add_error(None, str(error))
        else:
            return render(request, "clients/testimonial_thanks.html", {"found": found})
    status = 400 if request.method == "POST" and form.errors else 200
    context = {"form": form, "found": found, "outcome": found.outcome, "decided": decided}
    return render(request, "clients/testimonial_form.html", context, status=status)
