"""Buy a paid guide through the simulated provider, read it, download it, come back by code."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from pypdf import PdfReader

from store.models import Order
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "new.buyer@example.com"


def _sign_in_code() -> str:
    for message in reversed(mail.outbox):
        found = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", message.body, re.MULTILINE)
        if found:
            return found[1]
    raise AssertionError("no sign-in code was emailed")


def _enter_code(page: Any) -> None:
    page.wait_for_url(re.compile(r"/accounts/login/code/confirm/"))
    page.fill("input[name=code]", _sign_in_code())
    page.locator("form button[type=submit]").first.click()


def _shots(page: Any, name: str) -> None:
    screenshot(page, f"store-{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, f"store-{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_guest_buys_a_paid_guide_reads_it_downloads_it_and_finds_it_again(
    live_server: Any, page: Any, product: Any, paid_guide: Any, tmp_path: Path
) -> None:
    product.included = "A PDF stamped with your name\nFree updates by email"
    product.preview = "## A sample\n\nThe first page of the guide, free to read."
    product.save()

    page.goto(f"{live_server.url}/store/")
    _shots(page, "list")
    page.click("text=Study guide")
    page.wait_for_url(re.compile(r"/store/study-guide/"))
    assert page.locator(".policy").is_visible()
    _shots(page, "product")

    page.fill("input[name=email]", EMAIL)
    page.click("button.buy-button")
    page.wait_for_url(re.compile(r"/store/checkout/simulated/"))
    assert "Test payment" in page.content()
    _shots(page, "simulated")

    page.click("text=Pay £29.00 (test)")
    page.wait_for_url(re.compile(r"/store/checkout/success/"))
    order = Order.objects.get()
    assert order.status == Order.Status.PAID
    assert order.number in page.content()
    _shots(page, "success")

    # Reach the library from the success page with an emailed code.
    page.click("text=Email me a sign-in code")
    _enter_code(page)
    page.goto(f"{live_server.url}/library/")
    assert "Study guide" in page.content()
    _shots(page, "library")

    page.click("text=Read online: The paid loop")
    page.wait_for_url(re.compile(r"/guides/the-paid-loop/"))
    assert "SECRET PAID PARAGRAPH" in page.content()

    page.goto(f"{live_server.url}/library/")
    with page.expect_download() as download_info:
        page.click("a:has-text('Download Study guide')")
    saved = tmp_path / "copy.pdf"
    download_info.value.save_as(saved)
    first_page = PdfReader(io.BytesIO(saved.read_bytes())).pages[0].extract_text()
    assert f"Licensed to {EMAIL}, order {order.number}" in first_page

    # Sign out, then come back by code alone: the purchase is still there.
    page.click("footer button:has-text('Sign out')")
    page.goto(f"{live_server.url}/library/")
    assert "/accounts/login/" in page.url
    page.goto(f"{live_server.url}/accounts/login/code/")
    page.fill("input[name=email]", EMAIL)
    page.locator("main form button[type=submit]").first.click()
    _enter_code(page)
    page.goto(f"{live_server.url}/library/")
    assert "Study guide" in page.content()
    assert "Read online: The paid loop" in page.content()
    assert page.js_errors == []


def test_a_guest_on_a_phone_buys_from_the_paywall_and_reads_at_once(
    live_server: Any, page: Any, product: Any, paid_guide: Any
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/guides/the-paid-loop/")
    assert "SECRET PAID PARAGRAPH" not in page.content()
    page.click("text=Get access")
    page.wait_for_url(re.compile(r"/store/study-guide/\?from=the-paid-loop"))
    page.fill("input[name=email]", EMAIL)
    page.click("button.buy-button")
    page.click("text=Pay £29.00 (test)")
    page.wait_for_url(re.compile(r"/store/checkout/success/"))

    for label in ("Read now", "Download Study guide", "Back to The paid loop"):
        assert page.get_by_text(label).first.is_visible(), label
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "store-guest-success-390")

    page.get_by_text("Read now").first.click()
    page.wait_for_url(re.compile(r"/guides/the-paid-loop/"))
    assert page.get_by_text("SECRET PAID PARAGRAPH").is_visible()
    assert page.locator(".paywall").count() == 0
    screenshot(page, "store-guest-reads-390")

    page.goto(f"{live_server.url}/library/")
    page.wait_for_url(re.compile(r"/accounts/login/code/"))
    assert page.input_value("input[name=email]") == EMAIL
    assert page.get_by_role("button", name="Email me a code").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "store-guest-code-sign-in-390")
