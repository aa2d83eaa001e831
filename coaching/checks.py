"""The settings a public site must never run with, as Django deploy checks.

`manage.py check --deploy` lists every rule that fails, in Django's own format.
With `PRODUCTION=true` the site also refuses to start (CoachingConfig.ready calls
`refuse_unsafe_production`), so a missing secret stops gunicorn and Celery
instead of serving forged links or free products.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

# Values that have been printed in this project (settings, compose, Dockerfile):
# anyone who read them can sign as the site.
KNOWN_DEVELOPMENT_SECRET_KEYS = {
    "insecure-development-key-only",
    "change-me-in-production",
    "build",
}
MINIMUM_SECRET_KEY_LENGTH = 50
UNSENT_EMAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}


def _secret_key() -> str:
    # Django raises on reading an empty SECRET_KEY; to the check it is just missing.
    try:
        return str(settings.SECRET_KEY or "")
    except ImproperlyConfigured:
        return ""


def secret_key_problem() -> str | None:
    key = _secret_key()
    if not key:
        return "SECRET_KEY is not set."
    if key in KNOWN_DEVELOPMENT_SECRET_KEYS or key.startswith("django-insecure"):
        return "SECRET_KEY is a known development value, so anyone can forge the site's links."
    if len(key) < MINIMUM_SECRET_KEY_LENGTH:
        return f"SECRET_KEY is shorter than {MINIMUM_SECRET_KEY_LENGTH} characters."
    return None


def stripe_key_problem() -> str | None:
    if not settings.STRIPE_SECRET_KEY:
        return "STRIPE_SECRET_KEY is not set, so the store cannot take real payments."
    return None


def stripe_webhook_problem() -> str | None:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        return "STRIPE_WEBHOOK_SECRET is not set."
    if secret == settings.LOCAL_STRIPE_WEBHOOK_SECRET:
        return "STRIPE_WEBHOOK_SECRET is the local default, so anyone can sign Stripe events."
    return None


def email_backend_problem() -> str | None:
    if settings.EMAIL_BACKEND in UNSENT_EMAIL_BACKENDS:
        return f"EMAIL_BACKEND is {settings.EMAIL_BACKEND}, which sends no email."
    return None


def esp_webhook_problem() -> str | None:
    anymail: dict[str, Any] = getattr(settings, "ANYMAIL", {})
    if settings.EMAIL_BACKEND.startswith("anymail.") and not anymail.get("WEBHOOK_SECRET"):
        return "ANYMAIL_WEBHOOK_SECRET is not set, so anyone can post bounces to the ESP webhook."
    return None


def debug_problem() -> str | None:
    return "DEBUG is on, which shows settings and code to visitors." if settings.DEBUG else None


def allowed_hosts_problem() -> str | None:
    wildcards = [host for host in settings.ALLOWED_HOSTS if "*" in host or host.startswith(".")]
    if wildcards:
        return f"ALLOWED_HOSTS has a wildcard ({', '.join(wildcards)}); list the site's host."
    return None


def site_url_problem() -> str | None:
    if urlsplit(settings.SITE_URL).scheme != "https":
        return f"SITE_URL must start with https://, not {settings.SITE_URL!r}."
    return None


RULES: dict[str, Callable[[], str | None]] = {
    "coaching.E101": secret_key_problem,
    "coaching.E102": stripe_key_problem,
    "coaching.E103": stripe_webhook_problem,
    "coaching.E104": email_backend_problem,
    "coaching.E105": esp_webhook_problem,
    "coaching.E106": debug_problem,
    "coaching.E107": allowed_hosts_problem,
    "coaching.E108": site_url_problem,
}


def production_errors() -> list[checks.Error]:
    errors = []
    for check_id, rule in RULES.items():
        message = rule()
        if message:
            errors.append(checks.Error(message, id=check_id))
    return errors


@checks.register(checks.Tags.security, deploy=True)
def check_production_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.Error]:
    return production_errors()


def refuse_unsafe_production() -> None:
    """Stop start-up when PRODUCTION is on and any rule fails.

    `manage.py check` is let through so that `check --deploy` can list them all.
    """
    if not settings.PRODUCTION or sys.argv[1:2] == ["check"]:
        return
    errors = production_errors()
    if errors:
        lines = "\n".join(f"{error.id}: {error.msg}" for error in errors)
        raise ImproperlyConfigured(f"PRODUCTION is on and the settings are unsafe:\n{lines}")
