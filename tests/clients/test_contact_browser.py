"""/contact/ in a real browser on a phone: labelled fields, nothing sideways, and a
person who takes a few seconds to write gets the thank-you page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import screenshot
from tests.pagecheck import sideways_overflow

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_writes_to_the_coach_from_a_phone(page: Any, live_server: Any, coach: Any) -> None:
    from clients.models import Contact, Task

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/contact/")
    screenshot(page, "contact-phone")
    assert sideways_overflow(page) <= 0
    page.get_by_label("Your name").fill("Robin Reader")
    page.get_by_label("Your email address").fill("robin@example.com")
    page.get_by_label("What is it about?").select_option("training")
    page.get_by_label("Your message").fill("Could you run a workshop for our team of twelve?")
    honeypot = page.locator("#id_website").bounding_box()
    assert honeypot is not None and honeypot["x"] + honeypot["width"] <= 0  # off screen
    page.wait_for_timeout(3200)  # a person takes longer than the form's minimum
    page.get_by_role("button", name="Send the message").click()
    page.wait_for_url("**/contact/thanks/")
    screenshot(page, "contact-thanks-phone")
    assert "Thank you" in page.locator("h1").inner_text()
    assert sideways_overflow(page) <= 0
    contact = Contact.objects.get(email="robin@example.com")
    assert Task.objects.filter(contact=contact).count() == 1
    assert page.js_errors == []


def test_a_mistake_is_shown_by_its_field_on_a_phone(page: Any, live_server: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/contact/")
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("Your email address").fill("not-an-address")
    page.get_by_role("button", name="Send the message").click()
    page.wait_for_load_state()
    screenshot(page, "contact-errors-phone")
    email = page.get_by_label("Your email address")
    assert email.get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Your name").input_value() == "Robin"
    assert sideways_overflow(page) <= 0
