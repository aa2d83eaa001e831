"""Done means: the coach moves a contact across the board by drag and drop, opens their
timeline, adds a note, records an offer and sees the dashboard charts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from clients.models import Contact, Outcome, Stage
from tests.clients.factories import buy_package, make_contact, stage
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_the_coach_works_a_contact_from_the_board_to_an_offer(
    page: Any, live_server: Any, coach: Any, candidate: Any
) -> None:
    buy_package(candidate)  # revenue and a client for the charts
    for n in range(4):
        make_contact(f"lead{n}@example.com", name=f"Lead {n}")
    contact = make_contact("mover@example.com", name="Morgan Mover")
    sign_in(page, live_server, coach)

    page.goto(f"{live_server.url}/admin/clients/contact/board/")
    discovery = stage(Stage.Role.DISCOVERY)
    card = page.locator(f'.cl-card[data-contact="{contact.pk}"]')
    column = page.locator(f'.cl-column[data-stage="{discovery.pk}"]')
    screenshot(page, "clients-board-1280")
    # Grab the card by its top edge (its middle holds the fallback "Move to" form).
    card.drag_to(column.locator(".cl-cards"), source_position={"x": 150, "y": 6})
    column.locator(f'.cl-card[data-contact="{contact.pk}"]').wait_for()
    assert column.locator("[data-count]").inner_text() == "1"
    contact.refresh_from_db()
    assert contact.stage == discovery
    assert contact.stage_changes.first().by == coach  # type: ignore[union-attr]

    card = column.locator(f'.cl-card[data-contact="{contact.pk}"]')
    card.get_by_role("link", name="Morgan Mover").click()
    timeline = page.locator("[data-timeline]")
    timeline.get_by_text("Moved from New lead to Discovery call booked").wait_for()

    page.get_by_label("Note", exact=True).fill("Offer call went well: negotiate the base.")
    page.get_by_role("button", name="Add note").click()
    page.locator("[data-notes]").get_by_text("Offer call went well").wait_for()
    assert page.locator("[data-timeline]").get_by_text("Private note").count() == 1

    page.locator("#cl-outcome-form summary").click()
    form = page.locator("#cl-outcome-form form")
    form.get_by_label("Kind").select_option("offer")
    form.get_by_label("Company").fill("Acme AI")
    form.get_by_label("Role", exact=True).fill("ML engineer")
    form.get_by_label("Level").fill("Senior")
    form.get_by_label("Compensation band").fill("£100–120k")
    form.get_by_role("button", name="Record").click()
    page.locator("[data-outcomes]").get_by_text("Acme AI").wait_for()
    offer = Outcome.objects.get(contact=contact)
    assert (offer.kind, offer.company, offer.level) == ("offer", "Acme AI", "Senior")
    screenshot(page, "clients-contact-1280")

    page.goto(f"{live_server.url}/admin/")
    charts = page.locator("[data-dashboard] svg.cl-chart")
    assert charts.count() == 8  # with the members by tier and members lost charts
    assert page.locator("svg.cl-chart rect.cl-bar").count() > 0
    screenshot(page, "clients-dashboard-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "clients-dashboard-390")
    page.goto(f"{live_server.url}/admin/clients/contact/board/")
    screenshot(page, "clients-board-390")
    assert page.js_errors == []
    assert Contact.objects.get(pk=contact.pk).timeline.filter(kind="outcome").exists()


def test_the_client_portal_reads_well_on_a_phone(
    page: Any, live_server: Any, candidate: Any
) -> None:
    buy_package(candidate)
    contact = Contact.objects.get(user=candidate)
    contact.notes.create(body="Great progress: two interviews booked.", is_shared=True)
    contact.outcomes.create(kind="interview", company="Acme AI", role="ML engineer")
    sign_in(page, live_server, candidate)
    page.goto(f"{live_server.url}/portal/")
    page.get_by_text("Great progress").wait_for()
    assert page.locator("[data-credits-left]").inner_text() == "3"
    screenshot(page, "clients-portal-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "clients-portal-390")
    assert page.js_errors == []


def test_the_board_scrolls_in_its_own_box_and_cards_drag_from_their_body(
    page: Any, live_server: Any, coach: Any
) -> None:
    contact = make_contact("body@example.com", name="Bea Body")
    for n in range(3):
        make_contact(f"other{n}@example.com", name=f"Other {n}")
    sign_in(page, live_server, coach)
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/admin/clients/contact/board/")
        sizes = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth,"
            " document.querySelector('[data-board]').scrollWidth,"
            " document.querySelector('[data-board]').clientWidth]"
        )
        assert sizes[0] <= sizes[1], f"the page scrolls sideways at {width} px: {sizes}"
        text = page.locator("body").inner_text()
        assert "{{" not in text and "{%" not in text and "{#" not in text
        assert page.locator(".cl-card select:visible").count() == 0  # folded under Move to…
        if width == 1280:  # the six columns of a default pipeline fit: none cut off
            assert sizes[2] <= sizes[3], f"the board is cut off at 1280 px: {sizes}"
    assert sizes[2] > sizes[3]  # at 390 px the columns scroll inside the board

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/clients/contact/board/")
    discovery = stage(Stage.Role.DISCOVERY)
    card = page.locator(f'.cl-card[data-contact="{contact.pk}"]')
    box = card.bounding_box()
    assert box is not None
    # From the middle of the card, below the name: its body, not a control.
    card.drag_to(
        page.locator(f'.cl-column[data-stage="{discovery.pk}"] .cl-cards'),
        source_position={"x": box["width"] / 2, "y": box["height"] / 2 + 4},
    )
    page.locator(
        f'.cl-column[data-stage="{discovery.pk}"] [data-contact="{contact.pk}"]'
    ).wait_for()
    contact.refresh_from_db()
    assert contact.stage == discovery
    screenshot(page, "clients-board-drag-1280")
    assert page.js_errors == []
