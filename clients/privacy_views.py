"""Privacy pages: the public policy, the portal's export and erasure, the coach's buttons.

A person erases themselves in two steps: asking from the portal sends a signed,
time-limited link to their address; following it shows a confirm page, and only
its POST erases (mail scanners follow links, they do not submit forms).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients import privacy
from clients.models import ClientsError, Contact


def _zip_response(email: str) -> HttpResponse:
    response = HttpResponse(privacy.export_person(email=email), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename(email)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    return render(request, "clients/privacy.html", {"policy": privacy.retention_policy()})


@login_required
@require_GET
def portal_privacy(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "clients/portal_privacy.html",
        {"sent": request.GET.get("sent") == "1", "hours": privacy.ERASE_LINK_HOURS},
    )


@login_required
@require_GET
def portal_export(request: HttpRequest) -> HttpResponse:
    assert request.user.is_authenticated  # login_required
    return _zip_response(request.user.email)


@login_required
@require_POST
def portal_erase_request(request: HttpRequest) -> HttpResponse:
    privacy.request_erasure(user=request.user)
    return redirect(reverse("clients:portal-privacy") + "?sent=1")


@require_http_methods(["GET", "POST"])
def erase_confirm(request: HttpRequest, token: str) -> HttpResponse:
    email = privacy.email_for_erase_token(token)
    if email is None:
        return render(request, "clients/privacy_erase_invalid.html", status=400)
    if request.method == "POST":
        signed_in_as_them = request.user.is_authenticated and request.user.email.lower() == email
        try:
            privacy.erase_person(email=email)
        except ClientsError as error:
            return render(
                request, "clients/privacy_erase_invalid.html", {"error": str(error)}, status=400
            )
        if signed_in_as_them:
            logout(request)
        return render(request, "clients/privacy_erased.html")
    return render(request, "clients/privacy_erase_confirm.html", {"email": email})


# --- The coach's workspace (wired in ContactAdmin.get_urls behind staff_view, which
# checks the permissions: clients.export_contact, clients.delete_contact) ---------


def admin_export(admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk)
    return _zip_response(contact.email)


def admin_erase(admin: Any, request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk)
    if request.method == "POST":
        try:
            counts = privacy.erase_person(email=contact.email)
        except ClientsError as error:
            admin.message_user(request, str(error), level=messages.ERROR)
            return redirect("admin:clients_contact_change", contact.pk)
        admin.message_user(
            request,
            f"Erased. {counts.get('cancelled', 0)} upcoming call(s) cancelled, "
            f"{counts.get('orders_anonymised', 0)} order(s) kept anonymised.",
        )
        return redirect("admin:clients_contact_changelist")
    person = privacy.find_person(contact.email)
    context = {
        **admin.admin_site.each_context(request),
        "title": "Erase this person",
        "contact": contact,
        "data": privacy.person_data(person),
    }
    return TemplateResponse(request, "clients/admin/erase_confirm.html", context)
