"""Buying as a guest: the session that paid reads at once; the library asks for a code."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from store.models import Entitlement, Order
from tests.store.conftest import committed

pytestmark = pytest.mark.django_db

GUIDE = "/guides/the-paid-loop/"
SECRET = "SECRET PAID PARAGRAPH"


def buy_as_guest(client: Any, path: str = "/store/study-guide/?from=the-paid-loop") -> str:
    """Buy through the simulated provider; the success page's address."""
    started = client.post(path, {"email": "guest@example.com"})
    with committed():
        paid = client.post(started["Location"], {"action": "pay"})
    return str(paid["Location"])


def test_the_success_page_lists_what_was_bought_with_its_buttons_and_a_way_back(
    client: Any, product: Any
) -> None:
    page = client.get(buy_as_guest(client)).content.decode()

    order = Order.objects.get()
    assert "Study guide" in page
    assert f'href="{GUIDE}"' in page and "Read now" in page
    file_pk = product.files.get().pk
    assert f'href="/store/orders/{order.number}/files/{file_pk}/"' in page
    assert "Download Study guide" in page
    assert "Back to The paid loop" in page


def test_the_session_that_paid_reads_the_guide_at_once_and_nobody_else_does(
    client: Any, product: Any
) -> None:
    assert SECRET not in client.get(GUIDE).content.decode()
    assert Client().get(GUIDE)["X-Page-Cache"] == "hit"  # the visitor's page is now stored

    client.get(buy_as_guest(client))
    page = client.get(GUIDE)

    assert SECRET in page.content.decode()
    assert "X-Page-Cache" not in page
    assert SECRET not in Client().get(GUIDE).content.decode()


def test_a_session_that_did_not_start_the_order_gains_nothing_from_its_success_page(
    client: Any, product: Any
) -> None:
    success = buy_as_guest(client)
    other = Client()

    page = other.get(success).content.decode()

    assert "Read now" not in page and "Download" not in page
    assert SECRET not in other.get(GUIDE).content.decode()
    number = Order.objects.get().number
    file_pk = product.files.get().pk
    assert other.get(f"/store/orders/{number}/files/{file_pk}/").status_code == 404


def test_a_refund_takes_the_guest_sessions_access_back(client: Any, product: Any) -> None:
    client.get(buy_as_guest(client))
    assert SECRET in client.get(GUIDE).content.decode()

    Entitlement.objects.get().revoke()

    assert SECRET not in client.get(GUIDE).content.decode()


def test_the_guest_downloads_the_stamped_file_from_the_success_page(
    client: Any, product: Any
) -> None:
    client.get(buy_as_guest(client))
    number = Order.objects.get().number

    response = client.get(f"/store/orders/{number}/files/{product.files.get().pk}/")

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_the_library_sends_a_guest_to_the_code_sign_in_with_the_email_filled_in(
    client: Any, product: Any
) -> None:
    client.get(buy_as_guest(client))

    response = client.get("/library/")

    assert response["Location"] == (
        "/accounts/login/code/?next=%2Flibrary%2F&email=guest%40example.com"
    )
    page = client.get(response["Location"]).content.decode()
    assert 'value="guest@example.com"' in page
    assert page.index("Email me a code") < page.index("Sign in with a password instead")
    assert "sign up first" not in page


def test_asking_again_for_a_code_sends_a_fresh_one_and_the_fresh_one_signs_in(
    client: Any, product: Any
) -> None:
    client.get(buy_as_guest(client))
    mail.outbox.clear()

    client.post("/accounts/login/code/", {"email": "guest@example.com", "next": "/library/"})
    client.post("/accounts/login/code/", {"email": "guest@example.com", "next": "/library/"})

    codes = [re.findall(r"sign-in code for .+ is:\s+(\S+)", m.body)[0] for m in mail.outbox]
    assert len(codes) == 2 and codes[0] != codes[1]
    signed_in = client.post("/accounts/login/code/confirm/", {"code": codes[1]})
    assert signed_in.status_code == 302
    assert client.get("/library/").status_code == 200
