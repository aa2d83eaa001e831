"""The client portal: a signed-in client's own sessions, credits, shared notes and outcomes;
and the public contact form, which feeds the same contacts.

Everything is read through `_contact_for(request)`: rows are looked up within
that contact only, so another person's id answers 404, never their data.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from clients.forms import CONTACT_TOPICS, ContactForm, contact_form_token
from clients.models import Contact, Engagement, Note
from clients.services import receive_contact_message
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
