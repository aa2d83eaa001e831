"""Every object URL, tried as the owner, another user and an anonymous visitor."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from guides.access import can_view
from store.models import Entitlement, StampedFile
from tests.store.conftest import post_event, session_completed, start_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def bought(client: Any, candidate: Any, product: Any) -> dict[str, Any]:
    order = start_order(product, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    order.refresh_from_db()
    entitlement = Entitlement.objects.get(order=order)
    product_file = product.files.get()
    client.force_login(candidate)
    signed = client.get(f"/library/files/{product_file.pk}/download/")["Location"]
    client.logout()
    return {
        "order": f"/library/orders/{order.number}/",
        "invoice": f"/library/orders/{order.number}/invoice.pdf",
        "item": f"/library/items/{entitlement.pk}/",
        "download": f"/library/files/{product_file.pk}/download/",
        "status": f"/library/files/{product_file.pk}/status/",
        "signed": signed,
    }


def test_the_owner_reaches_every_object_url(client: Any, candidate: Any, bought: Any) -> None:
    client.force_login(candidate)
    for name, url in bought.items():
        response = client.get(url)
        assert response.status_code in (200, 302), name
    assert StampedFile.objects.get().status == "ready"


def test_another_user_gets_404_on_every_object_url(stranger: Any, bought: Any) -> None:
    other = Client()
    other.force_login(stranger)
    for name, url in bought.items():
        assert other.get(url).status_code == 404, name
    assert other.post(bought["order"] + "refund/").status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(bought: Any) -> None:
    anonymous = Client()
    for name, url in bought.items():
        response = anonymous.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/accounts/login/"), name


def test_a_refund_revokes_downloads_and_guide_access(
    client: Any, candidate: Any, bought: Any, product: Any, paid_guide: Any
) -> None:
    from store.models import Order
    from tests.store.conftest import charge_refunded

    order = Order.objects.get()
    post_event(client, charge_refunded(order, amount_refunded=order.total))
    client.force_login(candidate)

    for name in ("item", "download", "signed"):
        assert client.get(bought[name]).status_code == 404, name
    assert not can_view(type(candidate).objects.get(pk=candidate.pk), paid_guide)
    # The order and its invoice stay reachable: they are the buyer's records.
    assert client.get(bought["order"]).status_code == 200


def test_paid_text_never_reaches_a_visitor_who_has_not_bought(
    client: Any, stranger: Any, product: Any, paid_guide: Any
) -> None:
    client.force_login(stranger)
    page = client.get(paid_guide.get_absolute_url()).content.decode()
    assert "SECRET PAID PARAGRAPH" not in page
    assert "SECRET PAID PARAGRAPH" not in client.get(product.get_absolute_url()).content.decode()
