"""Transactional email: render a named template, record it in the outbox, send after commit.

Each email lives in `templates/emails/<name>-subject.txt`, `<name>-body.txt` and
`<name>-body.html`. Apps add one small function per email that calls
`queue_email`, so the question "what does this email say and when is it sent"
has one answer in one place.
"""

from __future__ import annotations

from email.policy import default as default_policy
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from coaching.models import OutboundEmail


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
    text = str(render_to_string(f"emails/{name}-body.txt", context)).strip() + "\n"
    try:
        html = str(render_to_string(f"emails/{name}-body.html", context))
    except TemplateDoesNotExist:
        html = ""
    return subject, text, html


def queue_email(
    *,
    key: str,
    to: str,
    template: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> OutboundEmail | None:
    """Record an email under a unique key and send it once the transaction commits.

    Returns None when an email with this key was already recorded: calling this
    twice for the same event sends one email.
    """
    from coaching.tasks import enqueue_on_commit, send_outbound_email

    if OutboundEmail.objects.filter(key=key).exists():
        return None
    subject, text, html = render_email(template, context)
    # get_or_create retries the read inside a savepoint if a concurrent caller
    # inserted the same key first, so the unique key decides who sends.
    email, created = OutboundEmail.objects.get_or_create(
        key=key,
        defaults={
            "to": to,
            "template": template,
            "subject": subject,
            "body_text": text,
            "body_html": html,
            "headers": headers or {},
            "attachments": attachments or [],
        },
    )
    if not created:
        return None
    enqueue_on_commit(send_outbound_email, email.pk)
    return email


class _LongLineMessage(EmailMultiAlternatives):
    """Headers folded only past SMTP's 998-character limit, not at 78.

    Folding a subject at 78 put a line break (and, in some mail apps, a second
    space) inside "Moved: ... is now on ..."; one long line is valid SMTP.
    """

    def message(self, *, policy: Any = default_policy) -> Any:
        return super().message(policy=policy.clone(max_line_length=998))


def outbound_message(email: OutboundEmail, connection: Any = None) -> EmailMultiAlternatives:
    message = _LongLineMessage(
        subject=email.subject,
        body=email.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.to],
        headers=email.headers or None,
        connection=connection,
    )
    if email.body_html:
        message.attach_alternative(email.body_html, "text/html")
    for item in email.attachments:
        message.attach(item["filename"], item["content"], item.get("mimetype", "text/plain"))
    return message
