"""Invoices an accountant accepts: gap-free numbers per year, seller and buyer details,
tax shown or stated as included, and a credit note for every refund."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from store import stripe_gateway
from store.accounting import CreditNote, DocumentCounter
from store.models import Order
from store.services import fulfil_checkout, refund_order, start_checkout
from tests.store.conftest import committed, post_event, session_completed, start_order
from tests.store.factories import ProductFactory
from tests.store.test_concurrency import run_together

YEAR = timezone.now().year


@pytest.fixture
def seller(settings: Any) -> None:
    settings.STORE_SELLER_NAME = "Morgan Coaching Ltd"
    settings.STORE_SELLER_ADDRESS = "2 High Street\\nBristol BS1 1AA"
    settings.STORE_SELLER_TAX_ID = "GB987654321"


def _pay(order: Order) -> Order:
    fulfil_checkout(
        session_id=str(order.stripe_checkout_session_id),
        session=stripe_gateway.simulated_session(order),
    )
    order.refresh_from_db()
    return order


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_payments_get_invoice_numbers_one_to_twenty_without_gap() -> None:
    product = ProductFactory(price=1500)
    orders = [start_order(product, email=f"buyer{i}@example.com") for i in range(20)]

    results = run_together([lambda order=order: _pay(order) for order in orders])

    assert not [r for r in results if isinstance(r, Exception)], results
    numbered = Order.objects.filter(pk__in=[o.pk for o in orders])
    assert sorted(numbered.values_list("invoice_sequence", flat=True)) == list(range(1, 21))
    assert set(numbered.values_list("invoice_year", flat=True)) == {YEAR}
    assert DocumentCounter.objects.get(series="invoice", year=YEAR).last == 20


@pytest.mark.django_db
def test_a_payment_rolled_back_gives_its_number_to_the_next_one() -> None:
    product = ProductFactory(price=1500)
    first, second = start_order(product), start_order(product)

    with pytest.raises(RuntimeError), transaction.atomic():
        _pay(first)
        assert first.invoice_sequence == 1
        raise RuntimeError("the fulfilment failed after numbering")

    assert _pay(second).invoice_number == f"INV-{YEAR}-00001"
    first.refresh_from_db()
    assert first.invoice_sequence is None


@pytest.mark.django_db
def test_numbering_starts_again_each_year() -> None:
    product = ProductFactory(price=1500)
    with time_machine.travel(datetime(2030, 12, 31, 23, 0, tzinfo=UTC)):
        late = _pay(start_order(product))
    with time_machine.travel(datetime(2031, 1, 1, 0, 30, tzinfo=UTC)):
        early = _pay(start_order(product))
    assert (late.invoice_number, early.invoice_number) == ("INV-2030-00001", "INV-2031-00001")


@pytest.mark.django_db
def test_a_free_order_takes_no_invoice_number(candidate: Any) -> None:
    from store.services import grant_free_product

    grant_free_product(user=candidate, product=ProductFactory())
    order = Order.objects.get()
    assert order.paid_at is not None and order.invoice_number == ""


@pytest.mark.django_db
def test_the_invoice_page_names_seller_buyer_number_and_says_prices_include_tax(
    client: Any, candidate: Any, product: Any, seller: None
) -> None:
    order = start_checkout(
        product=product, email=candidate.email, user=candidate, business_name="Acme AI Ltd",
        business_address="1 Main St\nLondon", tax_id="GB123456789",
        success_url="http://t/s/", cancel_url="http://t/c/",
    ).order  # fmt: skip
    post_event(client, session_completed(order))
    order.refresh_from_db()
    client.force_login(candidate)

    library = client.get("/library/").content.decode()
    assert f'href="/library/orders/{order.number}/invoice/"' in library
    page = client.get(f"/library/orders/{order.number}/invoice/").content.decode()
    for expected in (
        order.invoice_number, "Morgan Coaching Ltd", "Bristol BS1 1AA", "GB987654321",
        "Acme AI Ltd", "GB123456789", "£29.00",
        "All prices include any applicable tax; no tax is charged separately.",
    ):  # fmt: skip
        assert expected in page, expected
    pdf = client.get(f"/library/orders/{order.number}/invoice.pdf")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert order.invoice_number in text and "GB987654321" in text and "Acme AI Ltd" in text
    receipt = next(m for m in mail.outbox if "receipt" in m.subject.lower() or "Order" in m.subject)
    assert order.invoice_number in receipt.body


@pytest.mark.django_db
def test_another_buyer_cannot_open_an_invoice_or_credit_note(
    client: Any, stranger: Any, paid_order: Order, coach: Any
) -> None:
    with committed():
        refund_order(order=paid_order, amount=500, by=coach)
    note = CreditNote.objects.get()
    client.force_login(stranger)
    for url in (
        f"/library/orders/{paid_order.number}/invoice/",
        f"/library/orders/{paid_order.number}/invoice.pdf",
        f"/library/orders/{paid_order.number}/credit-notes/{note.pk}/",
        f"/library/orders/{paid_order.number}/credit-notes/{note.pk}.pdf",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db
def test_each_refund_gets_a_credit_note_in_its_own_series(
    client: Any, candidate: Any, paid_order: Order, coach: Any, seller: None
) -> None:
    with committed():
        refund_order(order=paid_order, amount=900, by=coach, reason="Partly unsuitable")
    with committed():
        refund_order(order=paid_order, by=coach)
    paid_order.refresh_from_db()

    notes = list(paid_order.credit_notes.all())
    assert [n.number for n in notes] == [f"CN-{YEAR}-00001", f"CN-{YEAR}-00002"]
    assert [n.amount for n in notes] == [900, paid_order.total - 900]
    assert notes[0].reason == "Partly unsuitable"
    # The charge.refunded events the simulated provider sent made no further notes.
    assert CreditNote.objects.count() == 2
    assert paid_order.invoice_number == f"INV-{YEAR}-00001"

    client.force_login(candidate)
    order_page = client.get(paid_order.get_absolute_url()).content.decode()
    assert notes[0].number in order_page and notes[1].number in order_page
    page = client.get(notes[0].get_absolute_url()).content.decode()
    assert "Credit note" in page and "-£9.00" in page and paid_order.invoice_number in page
    assert "Morgan Coaching Ltd" in page
    pdf = client.get(f"/library/orders/{paid_order.number}/credit-notes/{notes[0].pk}.pdf")
    assert notes[0].number in PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    refund_mail = [m for m in mail.outbox if "Refund for order" in m.subject]
    assert notes[0].number in refund_mail[0].body


@pytest.mark.django_db
def test_a_refund_made_in_stripes_dashboard_gets_a_credit_note_too(
    client: Any, paid_order: Order
) -> None:
    from tests.store.conftest import charge_refunded

    post_event(client, charge_refunded(paid_order, amount_refunded=1000))
    post_event(client, charge_refunded(paid_order, amount_refunded=1000, event_id="evt_again"))
    assert list(CreditNote.objects.values_list("amount", flat=True)) == [1000]


@pytest.mark.django_db
def test_with_stripe_tax_on_the_tax_is_recorded_and_shown(
    client: Any, candidate: Any, product: Any, settings: Any
) -> None:
    settings.STORE_AUTOMATIC_TAX = True
    order = start_order(product, email=candidate.email, user=candidate)
    assert order.automatic_tax
    session = stripe_gateway.simulated_session(order)
    post_event(client, session_completed(order, **{}) | {"data": {"object": session}})
    order.refresh_from_db()

    # £29.00 with 20% included: £4.83 of it is tax.
    assert order.total == 2900 and order.tax_amount == 483
    client.force_login(candidate)
    page = client.get(f"/library/orders/{order.number}/invoice/").content.decode()
    assert "Of which tax" in page and "£4.83" in page and "Stripe Tax" in page
    receipt = next(m for m in mail.outbox if m.to == [candidate.email])
    assert "Of which tax: £4.83" in receipt.body


def test_with_stripe_tax_on_checkout_asks_stripe_to_calculate_it(
    db: None, product: Any, settings: Any, stripe_calls: list[Any]
) -> None:
    settings.STORE_AUTOMATIC_TAX = True
    start_order(product)

    _, params, _ = stripe_calls[-1]
    assert params["automatic_tax"] == {"enabled": True}
    assert params["line_items"][0]["price_data"]["tax_behavior"] == "inclusive"


def test_with_stripe_tax_off_checkout_sends_no_tax_settings(
    db: None, product: Any, stripe_calls: list[Any]
) -> None:
    start_order(product)
    _, params, _ = stripe_calls[-1]
    assert "automatic_tax" not in params
    assert "tax_behavior" not in params["line_items"][0]["price_data"]


@pytest.mark.django_db
def test_a_business_buyer_finds_their_invoice_details_filled_in_next_time(
    client: Any, candidate: Any, product: Any
) -> None:
    start_checkout(
        product=product, email=candidate.email, user=candidate, business_name="Acme AI Ltd",
        business_address="1 Main St", tax_id="GB123456789",
        success_url="http://t/s/", cancel_url="http://t/c/",
    )  # fmt: skip
    client.force_login(candidate)
    page = client.get(product.get_absolute_url()).content.decode()
    assert 'value="Acme AI Ltd"' in page and 'value="GB123456789"' in page


def test_a_business_buyers_vat_number_goes_to_stripe_on_their_customer(
    db: None, product: Any, settings: Any, stripe_calls: list[Any]
) -> None:
    settings.STORE_AUTOMATIC_TAX = True
    order = start_checkout(
        product=product, email="cfo@acme.example", business_name="Acme AI GmbH",
        tax_id="DE 123456789", success_url="http://t/s/", cancel_url="http://t/c/",
    ).order  # fmt: skip

    (_, customer, options), (_, session, _) = stripe_calls
    assert customer["tax_id_data"] == [{"type": "eu_vat", "value": "DE123456789"}]
    assert customer["name"] == "Acme AI GmbH" and customer["email"] == "cfo@acme.example"
    assert options == {"idempotency_key": f"store-customer-{order.number}"}
    # Stripe Tax sees the business (reverse charge) through the session's customer.
    assert session["customer"] == "obj_1" and "customer_email" not in session
    assert session["customer_update"] == {"name": "auto", "address": "auto"}
    assert session["tax_id_collection"] == {"enabled": True}


def test_with_stripe_tax_on_checkout_lets_any_business_buyer_enter_a_tax_id(
    db: None, product: Any, settings: Any, stripe_calls: list[Any]
) -> None:
    settings.STORE_AUTOMATIC_TAX = True
    start_order(product)
    [(_, session, _)] = stripe_calls
    assert session["tax_id_collection"] == {"enabled": True}
    assert session["customer_email"] == "buyer@example.com"


def test_a_tax_id_of_no_known_kind_is_left_for_the_buyer_to_enter_on_stripes_page(
    db: None, product: Any, settings: Any, stripe_calls: list[Any]
) -> None:
    settings.STORE_AUTOMATIC_TAX = True
    start_checkout(
        product=product, email="a@b.example", tax_id="12-3456789",
        success_url="http://t/s/", cancel_url="http://t/c/",
    )  # fmt: skip
    [(_, session, _)] = stripe_calls
    assert session["tax_id_collection"] == {"enabled": True} and "customer" not in session
