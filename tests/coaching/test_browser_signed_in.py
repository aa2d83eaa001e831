"""Pages behind a sign-in, at a phone's and a desktop's width: no template syntax shown,
nothing scrolling sideways, and a screenshot of each in test-artifacts/ to look at."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients.factories import book, buy_package
from tests.clients.test_browser import sign_in
from tests.conftest import screenshot
from tests.pagecheck import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1280)


def visit_at_both_widths(page: Any, url: str, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(url)
        screenshot(page, f"signed-in-{name}-{width}")
        check_page(page)
    assert page.js_errors == []


def test_the_buyers_library_and_portal_read_well_at_both_widths(
    page: Any, live_server: Any, coach: Any, candidate: Any
) -> None:
    buy_package(candidate)
    sign_in(page, live_server, candidate)

    visit_at_both_widths(page, f"{live_server.url}/library/", "library")
    visit_at_both_widths(page, f"{live_server.url}/portal/", "portal")


def test_the_manage_booking_page_reads_well_at_both_widths(
    page: Any, live_server: Any, coach: Any, candidate: Any
) -> None:
    from bookings.tokens import manage_token

    booking = book(coach, email=candidate.email, user=candidate)

    visit_at_both_widths(
        page, f"{live_server.url}/bookings/{manage_token(booking)}/", "manage-booking"
    )


def test_the_coachs_dashboard_and_board_read_well_at_both_widths(
    page: Any, live_server: Any, coach: Any, candidate: Any
) -> None:
    buy_package(candidate)
    book(coach, email=candidate.email, user=candidate)
    sign_in(page, live_server, coach)

    visit_at_both_widths(page, f"{live_server.url}/admin/", "dashboard")
    visit_at_both_widths(page, f"{live_server.url}/admin/clients/contact/board/", "board")


def test_a_contacts_page_reads_well_at_both_widths(
    page: Any, live_server: Any, coach: Any, candidate: Any
) -> None:
    from clients.models import Contact

    buy_package(candidate)
    contact = Contact.objects.get(user=candidate)
    contact.notes.create(body="Prepared a system design plan.", is_shared=True)
    sign_in(page, live_server, coach)

    visit_at_both_widths(
        page, f"{live_server.url}/admin/clients/contact/{contact.pk}/change/", "contact"
    )


def test_a_campaigns_page_reads_well_at_both_widths(
    page: Any, live_server: Any, coach: Any
) -> None:
    from newsletter.models import Campaign
    from tests.newsletter.factories import MailingListFactory

    campaign = Campaign.objects.create(
        subject="This week in AI hiring", body="Hello,\n\nThree things this week.",
        mailing_list=MailingListFactory(),
    )  # fmt: skip
    sign_in(page, live_server, coach)

    visit_at_both_widths(
        page, f"{live_server.url}/admin/newsletter/campaign/{campaign.pk}/change/", "campaign"
    )
