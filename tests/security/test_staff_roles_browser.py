"""The Assistant's versions of the shared pages (no money on them) still read well:
at a phone's and a desktop's width, no template syntax shown, nothing scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest

from clients.models import Contact
from tests.clients.factories import book, buy_package
from tests.clients.test_browser import sign_in
from tests.coaching.test_browser_signed_in import visit_at_both_widths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_assistants_dashboard_workspace_and_brief_read_well_at_both_widths(
    page: Any, live_server: Any, coach: Any, candidate: Any, assistant: Any
) -> None:
    buy_package(candidate)
    booking = book(coach, email=candidate.email, user=candidate)
    contact = Contact.objects.for_user(candidate)
    assert contact is not None
    sign_in(page, live_server, assistant)

    visit_at_both_widths(page, f"{live_server.url}/admin/", "assistant-dashboard")
    visit_at_both_widths(
        page, f"{live_server.url}/admin/clients/contact/{contact.pk}/change/", "assistant-contact"
    )
    visit_at_both_widths(
        page, f"{live_server.url}/admin/clients/contact/brief/{booking.pk}/", "assistant-brief"
    )
    assert "Credits left" not in page.content()
