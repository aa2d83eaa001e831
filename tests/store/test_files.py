from __future__ import annotations

import io
from typing import Any

import pytest
import time_machine
from django.core import mail
from pypdf import PdfReader

from store.models import StampedFile
from tests.store.conftest import committed, post_event, session_completed, start_order
from tests.store.factories import add_pdf

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer_client(client: Any, candidate: Any, product: Any) -> Any:
    order = start_order(product, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    client.force_login(candidate)
    client.order = order
    return client


def test_the_downloaded_pdf_names_the_buyer_on_its_first_page(
    buyer_client: Any, product: Any
) -> None:
    product_file = product.files.get()

    link = buyer_client.get(f"/library/files/{product_file.pk}/download/")
    response = buyer_client.get(link["Location"])

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    reader = PdfReader(io.BytesIO(b"".join(response.streaming_content)))
    first = reader.pages[0].extract_text()
    assert f"Licensed to candidate@example.com, order {buyer_client.order.number}" in first
    assert all("Licensed to candidate@example.com" in page.extract_text() for page in reader.pages)


def test_the_stamped_copy_is_made_once_per_buyer_and_version(
    buyer_client: Any, product: Any
) -> None:
    product_file = product.files.get()
    for _ in range(3):
        buyer_client.get(f"/library/files/{product_file.pk}/download/")
    assert StampedFile.objects.count() == 1


def test_the_library_says_preparing_while_the_stamp_is_pending(
    buyer_client: Any, product: Any
) -> None:
    StampedFile.objects.update(status="pending")
    page = buyer_client.get("/library/").content.decode()
    assert "preparing your personal copy" in page
    assert 'hx-trigger="every 2s"' in page
    assert "Read online: The paid loop" in page


def test_signed_links_expire(buyer_client: Any, product: Any) -> None:
    product_file = product.files.get()
    link = buyer_client.get(f"/library/files/{product_file.pk}/download/")["Location"]
    assert "/private/" not in link and ".pdf" not in link

    with time_machine.travel(__import__("datetime").timedelta(minutes=10), tick=False):
        assert buyer_client.get(link).status_code == 404


def test_a_new_version_emails_past_buyers_with_its_notes(buyer_client: Any, product: Any) -> None:
    from store.services import announce_new_version

    mail.outbox.clear()
    with committed():
        version = add_pdf(product, label="v2", notes="New chapter on evaluation.")
        announce_new_version(version=version)
    with committed():
        announce_new_version(version=version)  # twice: still one email each

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["candidate@example.com"]
    assert "v2" in mail.outbox[0].subject
    assert "New chapter on evaluation." in mail.outbox[0].body
    assert StampedFile.objects.filter(version=version, status="ready").count() == 1


def test_the_invoice_carries_the_business_details(
    client: Any, candidate: Any, product: Any
) -> None:
    from store.services import start_checkout

    order = start_checkout(
        product=product, email=candidate.email, user=candidate, business_name="Acme AI Ltd",
        business_address="1 Main St\nLondon", tax_id="GB123456789",
        success_url="http://t/s/", cancel_url="http://t/c/",
    ).order  # fmt: skip
    post_event(client, session_completed(order))
    client.force_login(candidate)

    response = client.get(f"/library/orders/{order.number}/invoice.pdf")

    assert response["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    for expected in ("Acme AI Ltd", "London", "GB123456789", order.number, "29.00"):
        assert expected in text


def test_the_invoice_bills_a_buyer_without_business_details_by_name_and_email_once(
    client: Any, stranger: Any, product: Any
) -> None:
    from store.services import start_checkout

    order = start_checkout(
        product=product, email=stranger.email, user=stranger,
        success_url="http://t/s/", cancel_url="http://t/c/",
    ).order  # fmt: skip
    post_event(client, session_completed(order))
    client.force_login(stranger)

    response = client.get(f"/library/orders/{order.number}/invoice.pdf")

    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Sam Stranger" in text and text.count(stranger.email) == 1
