"""How a newsletter's messages reach a mail server: one interface, two transports.

`NEWSLETTER_TRANSPORT` chooses:
- "smtp": the fast SMTP pipeline (smtp_pipeline.py); needs the SMTP EMAIL_BACKEND;
- "django": whatever EMAIL_BACKEND is (anymail's ESPs, SMTP, locmem), one
  message per backend call (django_backend.py);
- "" (default): "smtp" when EMAIL_BACKEND is Django's SMTP backend, else "django".
The sender (newsletter/sending.py) sees only base.Transport.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from newsletter.transports.base import Outgoing, Refused, Report, Result, Transport

__all__ = ["Outgoing", "Refused", "Report", "Result", "Transport", "chosen", "chosen_name"]


def chosen_name() -> str:
    name = (getattr(settings, "NEWSLETTER_TRANSPORT", "") or "").strip().lower()
    if name in ("", "auto"):
        return "smtp" if isinstance(mailers.default, SMTPBackend) else "django"
    if name not in ("smtp", "django"):
        raise ImproperlyConfigured(f"NEWSLETTER_TRANSPORT must be smtp or django, not {name!r}")
    return name


def chosen() -> Transport:
    """A fresh transport (one per sender thread: each holds its own connection)."""
    backend = mailers.default
    if chosen_name() == "smtp":
        if not isinstance(backend, SMTPBackend):
            raise ImproperlyConfigured(
                "NEWSLETTER_TRANSPORT = smtp needs EMAIL_BACKEND = "
                "django.core.mail.backends.smtp.EmailBackend"
            )
        from newsletter.transports.smtp_pipeline import SMTPPipelineTransport

        return SMTPPipelineTransport(backend)
    from newsletter.transports.django_backend import DjangoBackendTransport

    return DjangoBackendTransport(backend)
