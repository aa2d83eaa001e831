"""Glue between django-allauth and the site: django-axes, and the sign-in by code."""

from __future__ import annotations

from typing import Any

from allauth.account import views as allauth_views
from allauth.account.internal.stagekit import clear_login
from django.http import HttpRequest, HttpResponseBase


def login_attempt_email(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The address a sign-in attempt was for, so lockouts are per address and IP.

    allauth authenticates with `email=`, the admin and DRF with `username=`, and
    the sign-in form posts `login`.
    """
    credentials = credentials or {}
    value = (
        credentials.get("email")
        or credentials.get("username")
        or request.POST.get("login")
        or request.POST.get("username")
    )
    return str(value).strip().lower() if value else None


class RequestLoginCodeView(allauth_views.RequestLoginCodeView):
    """allauth's "email me a sign-in code", where asking again sends a fresh code.

    allauth sends whoever has a code pending back to the "enter your code" page
    without sending anything, so a second request (lost email, other address)
    silently sent nothing while the page said a code was on its way. A new
    request drops the pending one: a new code goes out, the old one stops
    working, and allauth's rate limit per address still applies. The email is
    prefilled from `?email=` (the store's sign-in for a guest buyer).
    """

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" and not request.user.is_authenticated:
            clear_login(request)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self) -> dict[str, Any]:
        return {**super().get_initial(), "email": self.request.GET.get("email", "")[:254]}


request_login_code = RequestLoginCodeView.as_view()
