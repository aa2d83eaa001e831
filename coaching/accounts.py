"""Glue between django-allauth and django-axes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


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
