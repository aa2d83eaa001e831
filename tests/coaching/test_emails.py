"""What the platform's own emails look like on the wire and in a mail app."""

from __future__ import annotations

import email.policy
import re

import pytest
from django.core import mail

from coaching.emails import outbound_message
from coaching.models import OutboundEmail

pytestmark = pytest.mark.django_db


def test_a_long_subject_goes_out_on_one_line_without_a_fold(db):
    subject = (
        "Moved: Discovery call with Candidate Person is now on "
        "Thursday 4 December 2026, 09:00–09:30 (America/New_York)"
    )
    row = OutboundEmail.objects.create(
        key="moved-1", template="bookings-rescheduled", to="candidate@example.com",
        subject=subject, body_text="Body.",
    )  # fmt: skip
    raw = outbound_message(row).message(policy=email.policy.SMTP).as_bytes().decode()
    header = re.search(r"^Subject: (.*?)\r\n(?![ \t])", raw, re.MULTILINE | re.DOTALL)
    assert header is not None and "\r\n" not in header[1]
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject and "  " not in parsed["Subject"]


def test_the_sign_in_code_email_is_branded_in_html_and_text(client, candidate):
    client.post("/accounts/login/code/", {"email": candidate.email})
    message = mail.outbox[-1]
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", message.body, re.MULTILINE)[1]
    html = {mime: body for body, mime in message.alternatives}["text/html"]
    assert code in html and "<table" in html and "Your sign-in code" in html
    assert "{{" not in html and "{%" not in html
    assert message.subject.endswith("Your sign-in code")
    assert "If you did not ask to sign in" in message.body
