"""In a real browser at phone width: buy a package in instalments through the simulated
checkout, miss the second, see booking paused, pay it, and read the invoice."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from store.instalments import collect_due_instalments
from store.models import CreditGrant, Order, Product
from store.plans import Instalment
from tests.conftest import screenshot
from tests.pagecheck import check_page
from tests.store.factories import ProductFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_a_buyer_misses_an_instalment_pays_it_and_reads_the_invoice_on_a_phone(
    live_server: Any, page: Any, candidate: Any
) -> None:
    ProductFactory(
        slug="career-sprint", title="Career sprint", kind=Product.Kind.COACHING,
        session_credits=6, price=100000, instalments=3,
    )  # fmt: skip
    page.set_viewport_size({"width": 390, "height": 844})
    _sign_in(page, live_server, candidate)

    page.goto(f"{live_server.url}/store/career-sprint/")
    page.get_by_label("How to pay").select_option("3")
    page.locator("button.buy-button").click()
    page.wait_for_url(re.compile(r"/store/checkout/simulated/"))
    assert page.get_by_role("heading", name="Pay £333.33 now").is_visible()
    page.get_by_label("Use a card that will decline the later instalments").check()
    page.get_by_role("button", name="Pay £333.33 (test)").click()
    page.wait_for_url(re.compile(r"/store/checkout/success/"))

    order = Order.objects.get()
    Instalment.objects.filter(plan__order=order, number=2).update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    collect_due_instalments()
    assert not CreditGrant.objects.usable_by(candidate).exists()

    page.goto(f"{live_server.url}/library/")
    assert page.get_by_text("Booking is paused for Career sprint").is_visible()
    check_page(page)
    screenshot(page, "store-instalment-missed-library-390")
    page.get_by_role("link", name="Pay it on the order page").click()
    page.wait_for_url(re.compile(rf"/library/orders/{order.number}/"))
    check_page(page)
    screenshot(page, "store-instalment-missed-order-390")
    page.get_by_role("button", name="Pay £333.33 now").click()
    page.wait_for_url(re.compile(r"/store/checkout/simulated/"))
    page.get_by_role("button", name="Pay £333.33 (test)").click()
    page.wait_for_url(re.compile(rf"/library/orders/{order.number}/"))
    assert page.locator("#instalments + table").get_by_text("Missed").count() == 0
    assert CreditGrant.objects.usable_by(candidate).exists()

    page.get_by_role("link", name=re.compile(r"^Invoice INV-")).click()
    page.wait_for_url(re.compile(r"/invoice/$"))
    assert page.get_by_role("heading", name="Invoice").is_visible()
    check_page(page)
    screenshot(page, "store-invoice-390")
