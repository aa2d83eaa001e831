"""The ESP's tracking and inbound webhooks, mounted for the configured provider only
and answering 403 to anything without its secret.

django-anymail accepts unauthenticated posts when no WEBHOOK_SECRET is set (it
only warns), and mounts every ESP it knows: anyone could post a "bounce" or a
"complaint" for any address and suppress it. Here the routes exist only for
NEWSLETTER_ESP, every post must carry the shared secret (basic auth in the
webhook URL, which every anymail ESP supports), and a provider's own signature
is checked on top where anymail has one configured (say Mailgun's signing key).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from anymail import urls as anymail_urls
from anymail.exceptions import AnymailWebhookValidationFailure
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import URLPattern


def require_secret(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse (403) every request unless a webhook secret is configured and anymail
    accepts the request's credentials against it (and any signature)."""

    @wraps(view)  # keeps anymail's csrf_exempt mark
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.ANYMAIL.get("WEBHOOK_SECRET"):
            return HttpResponseForbidden("Webhook secret not configured.")
        try:
            return view(request, *args, **kwargs)
        except AnymailWebhookValidationFailure:
            return HttpResponseForbidden("Webhook credentials missing or wrong.")

    return wrapper


def esp_urlpatterns(esp: str) -> list[URLPattern]:
    """anymail's routes for one provider (its tracking and inbound webhooks), gated."""
    if not esp:
        return []
    return [
        URLPattern(pattern.pattern, require_secret(pattern.callback), name=pattern.name)
        for pattern in anymail_urls.urlpatterns
        if isinstance(pattern, URLPattern)
        and str(pattern.pattern).lstrip("^").startswith(f"{esp}/")
    ]
