"""The client portal: a signed-in client's own sessions, credits, shared notes and outcomes.

Everything is read through `_contact_for(request)`: rows are looked up within
that contact only, so another person's id answers 404, never their data.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from clients.models import Contact, Engagement, Note


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
