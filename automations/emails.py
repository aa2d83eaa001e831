"""The follow-up email: the coach's words from the rule, in the house email layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from coaching.emails import queue_email
from coaching.markdown import render_markdown, render_text, sanitize

if TYPE_CHECKING:
    from automations.models import Run


def follow_up_email(run: Run) -> None:
    rule, contact = run.rule, run.contact
    html, _ = render_markdown(rule.email_body)
    queue_email(
        # The run's own key: a run retried after a crash cannot send twice.
        key=f"automation-run:{run.pk}",
        to=contact.email,
        template="automations-follow-up",
        context={
            "subject": rule.email_subject,
            "name": (contact.name or "").split(" ")[0],
            "body_html": sanitize(html),
            "body_text": render_text(rule.email_body),
        },
    )
