"""Packages paid in instalments: a schedule fixed at purchase, credits released per
the package's rule, and a missed instalment pausing booking until it is paid."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from store import stripe_gateway
from store.instalments import collect_due_instalments
from store.models import CreditGrant, Order, Product
from store.plans import CreditRelease, Instalment, split_amount
from store.services import start_checkout
from tests.store.conftest import committed, post_event, session_completed

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(db: None) -> Product:
    from tests.store.factories import ProductFactory

    product: Product = ProductFactory(
        slug="career-sprint", title="Career sprint", kind=Product.Kind.COACHING,
        session_credits=6, price=100000, instalments=3, instalment_interval_days=30,
        instalment_credits=CreditRelease.PER_INSTALMENT,
    )  # fmt: skip
    return product


def _buy_in_instalments(client: Any, buyer: Any, product: Product) -> Order:
    order = start_checkout(
        product=product, email=buyer.email, user=buyer, instalments=product.instalments,
        success_url="http://t/s/", cancel_url="http://t/c/",
    ).order  # fmt: skip
    event = session_completed(order)
    event["data"]["object"] = stripe_gateway.simulated_session(order)
    post_event(client, event)
    order.refresh_from_db()
    return order


def _grant(order: Order) -> CreditGrant:
    return CreditGrant.objects.get(order=order)


def _collect_due(after_days: int) -> None:
    with time_machine.travel(timedelta(days=after_days)), committed():
        collect_due_instalments()


def test_the_remainder_goes_on_the_last_instalment() -> None:
    assert split_amount(100000, 3) == [33333, 33333, 33334]
    assert split_amount(1000, 4) == [250, 250, 250, 250]
    assert sum(split_amount(99999, 7)) == 99999
    with pytest.raises(ValueError):
        split_amount(2, 3)


def test_checkout_charges_the_first_instalment_and_fixes_the_schedule(
    client: Any, candidate: Any, package: Product
) -> None:
    order = _buy_in_instalments(client, candidate, package)

    assert order.status == Order.Status.PAID and order.total == 100000
    plan = order.plan
    rows = list(plan.instalments.values_list("number", "amount"))
    assert rows == [(1, 33333), (2, 33333), (3, 33334)]
    assert plan.instalments.get(number=1).paid_at is not None
    due = list(plan.instalments.values_list("due_at", flat=True))
    assert [(b - a).days for a, b in zip(due, due[1:], strict=False)] == [30, 30]


def test_a_later_price_or_plan_change_never_touches_an_existing_schedule(
    client: Any, candidate: Any, stranger: Any, package: Product
) -> None:
    order = _buy_in_instalments(client, candidate, package)

    package.prices.update(is_active=False)
    package.prices.create(amount=150000, currency="gbp")
    package.instalments, package.instalment_interval_days = 4, 7
    package.session_credits = 10
    package.instalment_credits = CreditRelease.AT_ONCE
    package.save()
    _collect_due(31)

    plan = Order.objects.get(pk=order.pk).plan
    assert list(plan.instalments.values_list("amount", flat=True)) == [33333, 33333, 33334]
    assert (plan.instalment_count, plan.interval_days, plan.session_credits) == (3, 30, 6)
    assert plan.credit_release == CreditRelease.PER_INSTALMENT
    assert _grant(order).total == 4  # 6 credits x 2 of 3 paid
    # A new buyer gets the new terms.
    later = _buy_in_instalments(client, stranger, Product.objects.get(pk=package.pk))
    assert list(later.plan.instalments.values_list("amount", flat=True)) == [37500] * 4


def test_credits_follow_the_paid_instalments_when_the_package_says_so(
    client: Any, candidate: Any, package: Product
) -> None:
    order = _buy_in_instalments(client, candidate, package)
    assert _grant(order).total == 2

    _collect_due(31)
    assert _grant(order).total == 4
    _collect_due(61)
    grant = _grant(order)
    assert grant.total == 6
    assert Instalment.objects.filter(paid_at__isnull=True).count() == 0
    # Collected once each, however often the collector runs.
    _collect_due(62)
    assert len([m for m in mail.outbox if "paid (order" in m.subject]) == 2


def test_credits_all_at_once_when_the_package_says_so(
    client: Any, candidate: Any, package: Product
) -> None:
    package.instalment_credits = CreditRelease.AT_ONCE
    package.save()
    order = _buy_in_instalments(client, candidate, package)
    assert _grant(order).total == 6


def test_a_missed_instalment_pauses_booking_until_the_buyer_pays_it(
    client: Any, candidate: Any, package: Product
) -> None:
    package.instalment_credits = CreditRelease.AT_ONCE
    package.save()
    order = _buy_in_instalments(client, candidate, package)
    order.plan.simulate_decline = True
    order.plan.save()
    assert CreditGrant.objects.usable_by(candidate).exists()

    _collect_due(31)

    second = order.plan.instalments.get(number=2)
    assert second.is_missed
    assert not CreditGrant.objects.usable_by(candidate).exists()
    missed = [m for m in mail.outbox if "did not go through" in m.subject]
    assert len(missed) == 1 and f"/library/orders/{order.number}/" in missed[0].body
    client.force_login(candidate)
    library = client.get("/library/").content.decode()
    assert "Booking is paused for Career sprint" in library
    page = client.get(order.get_absolute_url()).content.decode()
    assert "did not go through" in page and "Pay £333.33 now" in page

    # The buyer pays it with another card on the (simulated) Checkout page.
    with committed():
        started = client.post(f"/library/orders/{order.number}/instalments/2/pay/")
    assert started.status_code == 302
    with committed():
        client.post(started["Location"], {"action": "pay"})

    second.refresh_from_db()
    assert second.paid_at is not None and not second.is_missed
    assert CreditGrant.objects.usable_by(candidate).exists()
    assert "Booking is paused" not in client.get("/library/").content.decode()
    # The collector does not charge it again, and a late decline event changes nothing.
    _collect_due(32)
    from store.instalments import record_instalment_failed

    record_instalment_failed(instalment_pk=second.pk)
    assert CreditGrant.objects.usable_by(candidate).exists()


def test_booking_with_a_paused_package_is_refused(
    client: Any, candidate: Any, package: Product
) -> None:
    from bookings.services import has_usable_credit

    order = _buy_in_instalments(client, candidate, package)
    order.plan.simulate_decline = True
    order.plan.save()
    assert has_usable_credit(candidate)
    _collect_due(31)
    assert not has_usable_credit(candidate)


def test_an_instalment_not_yet_due_cannot_be_paid_early_from_the_order_page(
    client: Any, candidate: Any, package: Product
) -> None:
    order = _buy_in_instalments(client, candidate, package)
    client.force_login(candidate)
    response = client.post(f"/library/orders/{order.number}/instalments/2/pay/")
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert Instalment.objects.get(plan__order=order, number=2).stripe_checkout_session_id is None


def test_a_stranger_cannot_pay_or_see_someone_elses_instalments(
    client: Any, candidate: Any, stranger: Any, package: Product
) -> None:
    order = _buy_in_instalments(client, candidate, package)
    client.force_login(stranger)
    assert client.post(f"/library/orders/{order.number}/instalments/2/pay/").status_code == 404


def test_the_product_page_offers_the_plan_and_the_form_starts_it(
    client: Any, candidate: Any, package: Product
) -> None:
    page = client.get("/store/career-sprint/").content.decode()
    assert "In 3 instalments, one every 30 days: £333.33 now, the last £333.34" in page
    client.force_login(candidate)
    with committed():
        response = client.post("/store/career-sprint/", {"email": candidate.email, "plan": "3"})
    assert response.status_code == 302
    order = Order.objects.get()
    assert order.plan.instalment_count == 3
    checkout = client.get(response["Location"]).content.decode()
    assert "Pay £333.33 now" in checkout


def test_a_plan_the_product_does_not_offer_is_refused(
    client: Any, candidate: Any, package: Product
) -> None:
    client.force_login(candidate)
    response = client.post("/store/career-sprint/", {"email": candidate.email, "plan": "5"})
    assert response.status_code == 400
    assert Order.objects.count() == 0


def test_the_receipt_and_invoice_show_the_schedule_not_a_total_paid(
    client: Any, candidate: Any, package: Product
) -> None:
    order = _buy_in_instalments(client, candidate, package)
    receipt = next(m for m in mail.outbox if m.to == [candidate.email])
    assert "Total: £1,000.00, in 3 instalments" in receipt.body
    assert "1. £333.33: paid" in receipt.body and "3. £333.34: taken on" in receipt.body
    client.force_login(candidate)
    page = client.get(f"/library/orders/{order.number}/invoice/").content.decode()
    assert "Total paid" not in page
    assert "Payable in 3 instalments: £333.33 paid" in page


def test_the_simulated_clock_command_collects_each_plans_next_instalment(
    client: Any, candidate: Any, package: Product
) -> None:
    from io import StringIO

    from django.core.management import call_command

    order = _buy_in_instalments(client, candidate, package)
    out = StringIO()
    with committed():
        call_command("advance_instalments", stdout=out)
    assert "1 instalments brought forward, 1 collected." in out.getvalue()
    paid = order.plan.instalments.filter(paid_at__isnull=False).values_list("number", flat=True)
    assert list(paid) == [1, 2]


def test_the_simulated_clock_command_refuses_real_stripe(settings: Any) -> None:
    from django.core.management import CommandError, call_command

    settings.STRIPE_SECRET_KEY = "sk_test_real"
    with pytest.raises(CommandError):
        call_command("advance_instalments")


def _events(kind: str) -> list[dict[str, Any]]:
    from store.models import StripeEvent

    return [e.data_object for e in StripeEvent.objects.filter(type=kind).order_by("pk")]


def test_a_refund_of_an_instalment_order_refunds_each_paid_charge_and_cancels_the_rest(
    client: Any, candidate: Any, coach: Any, package: Product
) -> None:
    from store.accounting import CreditNote
    from store.models import Refund
    from store.services import refund_order

    order = _buy_in_instalments(client, candidate, package)
    _collect_due(31)
    order.refresh_from_db()
    first, second, third = order.plan.instalments.all()
    assert order.amount_paid == 66666

    with committed():
        refund_order(order=order, by=coach)

    order.refresh_from_db()
    refunds = Refund.objects.filter(order=order).order_by("instalment__number")
    assert [(r.instalment.number, r.amount) for r in refunds] == [(1, 33333), (2, 33333)]
    # Each charge got its own refund from the provider, and its own credit note.
    charges = _events("charge.refunded")
    assert sorted((c["payment_intent"], c["amount_refunded"]) for c in charges) == sorted(
        [(first.stripe_payment_intent_id, 33333), (second.stripe_payment_intent_id, 33333)]
    )
    assert first.stripe_payment_intent_id != second.stripe_payment_intent_id
    assert list(CreditNote.objects.values_list("amount", flat=True)) == [33333, 33333]
    assert order.amount_refunded == 66666 and order.status == Order.Status.REFUNDED
    assert not order.grants_access
    assert not CreditGrant.objects.usable_by(candidate).exists()
    assert _grant(order).revoked_at is not None
    # The instalment not yet due is cancelled: the collector never takes it.
    third.refresh_from_db()
    assert third.cancelled_at is not None and third.paid_at is None
    _collect_due(61)
    _collect_due(95)
    third.refresh_from_db()
    assert third.paid_at is None and third.collection_started_at is None
    assert len(_events("payment_intent.succeeded")) == 1  # the second instalment only
    client.force_login(candidate)
    page = client.get(order.get_absolute_url()).content.decode()
    assert "Cancelled" in page and "Taken automatically" not in page


def test_a_partial_refund_of_an_instalment_order_comes_off_the_latest_charge_first(
    client: Any, candidate: Any, coach: Any, package: Product
) -> None:
    from store.services import refund_order

    order = _buy_in_instalments(client, candidate, package)
    _collect_due(31)
    order.refresh_from_db()
    with pytest.raises(stripe_gateway.GatewayError, match="at most £666.66"):
        refund_order(order=order, amount=70000, by=coach)
    with committed():
        refund_order(order=order, amount=40000, by=coach)

    order.refresh_from_db()
    rows = order.plan.instalments.values_list("number", "amount_refunded", "cancelled_at")
    assert [(n, r) for n, r, _ in rows] == [(1, 6667), (2, 33333), (3, 0)]
    # Part of the money back: the plan goes on, and so does access.
    assert all(cancelled is None for *_, cancelled in rows)
    assert order.status == Order.Status.PARTIALLY_REFUNDED and order.grants_access
    assert order.credit_notes.count() == 2


def test_real_refunds_of_an_instalment_order_name_each_charges_payment_intent(
    client: Any, candidate: Any, package: Product, settings: Any, monkeypatch: Any
) -> None:
    from store.models import Refund
    from store.services import refund_order

    order = _buy_in_instalments(client, candidate, package)
    _collect_due(31)
    order.refresh_from_db()
    first, second, _ = order.plan.instalments.all()
    # Stripe only from here: the purchase and the charges above ran offline.
    settings.STRIPE_SECRET_KEY = "sk_test_recording"
    calls: list[Any] = []

    class Recorder:
        def __getattr__(self, name: str) -> Any:
            return self

        def create(self, params: Any = None, options: Any = None) -> Any:
            calls.append((params, options))
            return type("R", (), {"id": f"re_{len(calls)}"})()

    monkeypatch.setattr(stripe_gateway, "_client", lambda: Recorder())
    refund_order(order=order)

    refunds = {r.instalment.number: r for r in Refund.objects.filter(order=order)}
    asked = {params["payment_intent"]: (params["amount"], options) for params, options in calls}
    assert asked == {
        first.stripe_payment_intent_id: (
            33333, {"idempotency_key": f"store-refund-{refunds[1].pk}"}
        ),
        second.stripe_payment_intent_id: (
            33333, {"idempotency_key": f"store-refund-{refunds[2].pk}"}
        ),
    }  # fmt: skip
    assert calls[0][0]["metadata"]["instalment"] == str(second.pk)


def test_a_refund_of_a_later_instalment_made_in_stripes_dashboard_credits_that_charge(
    client: Any, candidate: Any, package: Product
) -> None:
    from tests.store.conftest import load_fixture

    order = _buy_in_instalments(client, candidate, package)
    _collect_due(31)
    second = order.plan.instalments.get(number=2)
    event = load_fixture(
        "charge.refunded", event_id="evt_dash", order_number=order.number, amount=33333,
        amount_refunded=33333, refunded="true",
    )  # fmt: skip
    event["data"]["object"]["payment_intent"] = second.stripe_payment_intent_id
    post_event(client, event)

    order.refresh_from_db()
    second.refresh_from_db()
    assert second.amount_refunded == 33333
    assert order.plan.instalments.get(number=1).amount_refunded == 0
    assert order.amount_refunded == 33333 and order.grants_access
    assert list(order.credit_notes.values_list("amount", flat=True)) == [33333]


def test_a_refund_asked_inside_the_window_of_an_instalment_order_is_paid_at_once(
    client: Any, candidate: Any, package: Product
) -> None:
    package.refund_window_days = 14
    package.automatic_refunds = Product.AutomaticRefunds.UNUSED
    package.save()
    order = _buy_in_instalments(client, candidate, package)
    client.force_login(candidate)
    assert "Refund now" in client.get(order.get_absolute_url()).content.decode()

    with committed():
        client.post(f"/library/orders/{order.number}/refund/", {"reason": "Not for me"})

    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and order.amount_refunded == 33333
    assert order.plan.instalments.filter(cancelled_at__isnull=False).count() == 2
    assert not CreditGrant.objects.usable_by(candidate).exists()


def test_the_collector_charges_the_amounts_fixed_at_purchase_whatever_the_product_says_now(
    client: Any, candidate: Any, package: Product, settings: Any, monkeypatch: Any
) -> None:
    package.prices.update(is_active=False)
    package.prices.create(amount=100001, currency="gbp")
    order = _buy_in_instalments(client, candidate, package)
    # The coach changes the price and the number of instalments afterwards.
    package.prices.update(is_active=False)
    package.prices.create(amount=240000, currency="gbp")
    package.instalments, package.instalment_interval_days = 6, 10
    package.save()
    settings.STRIPE_SECRET_KEY = "sk_test_recording"
    charged: list[dict[str, Any]] = []

    class Stripe:
        def __getattr__(self, name: str) -> Any:
            return self

        def retrieve(self, *args: Any, **kwargs: Any) -> Any:
            return type("PI", (), {"payment_method": "pm_saved"})()

        def create(self, params: Any = None, options: Any = None) -> Any:
            charged.append(params)
            return type("PI", (), {"id": f"pi_{len(charged)}"})()

    monkeypatch.setattr(stripe_gateway, "_client", lambda: Stripe())
    for day in (11, 21, 31, 45, 61, 90):
        _collect_due(day)

    # 100,001 in 3: the two equal parts first, the odd penny on the last.
    assert order.plan.instalments.get(number=1).amount == 33333
    assert [(c["amount"], c["metadata"]["instalment"]) for c in charged] == [
        (33333, str(order.plan.instalments.get(number=2).pk)),
        (33335, str(order.plan.instalments.get(number=3).pk)),
    ]
    assert all(c["payment_method"] == "pm_saved" and c["off_session"] for c in charged)


def test_with_stripe_tax_on_each_instalment_carries_its_own_tax_on_invoice_email_and_refund(
    client: Any, candidate: Any, coach: Any, package: Product, settings: Any
) -> None:
    from store.services import refund_order

    settings.STORE_AUTOMATIC_TAX = True  # the simulated Stripe Tax: 20 % included
    order = _buy_in_instalments(client, candidate, package)
    _collect_due(31)
    order.refresh_from_db()

    # 333.33 and 333.34 with 20 % inside: 55.55 and 55.56 of tax.
    taxes = list(order.plan.instalments.values_list("number", "tax_amount"))
    assert taxes[:2] == [(1, 5555), (2, 5555)]
    assert order.tax_amount == 11110  # what has been paid so far
    paid_mail = next(m for m in mail.outbox if "paid (order" in m.subject)
    assert "Of which tax: £55.55" in paid_mail.body
    client.force_login(candidate)
    page = client.get(f"/library/orders/{order.number}/invoice/").content.decode()
    assert "£333.33 paid" in page and "of which tax £55.55" in page
    assert "£333.34 due" in page and "Of which tax" in page and "£111.10" in page

    _collect_due(61)
    order.refresh_from_db()
    assert order.plan.instalments.get(number=3).tax_amount == 5556
    with committed():
        refund_order(order=order, amount=40000, by=coach)
    notes = list(order.credit_notes.values_list("amount", "tax_amount"))
    # Each credit note gives back the tax of the instalment it refunds.
    assert notes == [(33334, 5556), (6666, 6666 * 5555 // 33333)]


def test_real_instalments_ask_stripe_tax_for_their_tax_before_the_charge(
    client: Any, candidate: Any, package: Product, settings: Any, monkeypatch: Any
) -> None:
    settings.STORE_AUTOMATIC_TAX = True
    order = _buy_in_instalments(client, candidate, package)
    order.plan.stripe_customer_id = "cus_saved"
    order.plan.save()
    settings.STRIPE_SECRET_KEY = "sk_test_recording"
    calls: list[tuple[str, Any]] = []

    class Stripe:
        def __init__(self, path: str = "") -> None:
            self.path = path

        def __getattr__(self, name: str) -> Any:
            return Stripe(f"{self.path}.{name}")

        def retrieve(self, *args: Any, **kwargs: Any) -> Any:
            return type("PI", (), {"payment_method": "pm_saved"})()

        def create(self, params: Any = None, options: Any = None) -> Any:
            calls.append((self.path, params))
            fields = {"id": f"obj_{len(calls)}", "tax_amount_inclusive": 5432, "status": "ok"}
            return type("O", (), fields)()

        def create_from_calculation(self, params: Any = None, options: Any = None) -> Any:
            calls.append((f"{self.path}.create_from_calculation", params))
            return type("T", (), {"id": "tax_txn"})()

        def create_reversal(self, params: Any = None, options: Any = None) -> Any:
            calls.append((f"{self.path}.create_reversal", (params, options)))
            return type("T", (), {"id": "tax_rev"})()

    monkeypatch.setattr(stripe_gateway, "_client", lambda: Stripe())
    _collect_due(31)

    calculation = next(params for path, params in calls if "calculations" in path)
    assert calculation["customer"] == "cus_saved"
    assert calculation["line_items"] == [
        {"amount": 33333, "reference": f"{order.number}-2", "tax_behavior": "inclusive"}
    ]
    intent = next(params for path, params in calls if "payment_intents" in path)
    assert intent["amount"] == 33333 and intent["metadata"]["tax_calculation"] == "obj_1"
    second = order.plan.instalments.get(number=2)
    assert second.tax_amount == 5432
    recorded = next(params for path, params in calls if path.endswith("create_from_calculation"))
    assert recorded == {"calculation": "obj_1", "reference": f"{order.number}-2"}
    assert second.stripe_tax_transaction_id == "tax_txn"

    # Stripe's payment_intent.succeeded would say so; a refund then reverses its tax.
    from store.instalments import record_instalment_paid
    from store.services import refund_order

    record_instalment_paid(instalment_pk=second.pk, payment_intent="pi_second")
    refund = refund_order(order=order, amount=10000)
    reversal, options = next(p for path, p in calls if path.endswith("create_reversal"))
    assert reversal == {
        "mode": "partial", "original_transaction": "tax_txn", "flat_amount": -10000,
        "reference": f"{order.number}-2-refund-{refund.pk}",
    }  # fmt: skip
    assert options == {"idempotency_key": f"store-tax-reversal-{refund.pk}"}


def test_with_stripe_tax_on_the_plans_checkout_line_is_tax_inclusive(
    db: None, package: Product, settings: Any, stripe_calls: list[Any]
) -> None:
    settings.STORE_AUTOMATIC_TAX = True
    start_checkout(
        product=package, email="a@b.example", instalments=3,
        success_url="http://t/s/", cancel_url="http://t/c/",
    )  # fmt: skip
    assert stripe_calls[-1][1]["line_items"][0]["price_data"]["tax_behavior"] == "inclusive"


def test_an_instalment_charged_while_the_order_was_being_refunded_is_given_back_too(
    client: Any, candidate: Any, coach: Any, package: Product
) -> None:
    from store.instalments import record_instalment_paid
    from store.services import refund_order

    order = _buy_in_instalments(client, candidate, package)
    second = order.plan.instalments.get(number=2)
    with committed():
        refund_order(order=order, by=coach)
    second.refresh_from_db()
    assert second.cancelled_at is not None

    # The collector's charge was already on its way: Stripe reports it paid.
    with committed():
        record_instalment_paid(instalment_pk=second.pk, payment_intent="pi_in_flight")

    order.refresh_from_db()
    second.refresh_from_db()
    assert second.paid_at is not None and second.amount_refunded == second.amount
    assert order.refunds.filter(instalment=second).count() == 1
    assert order.status == Order.Status.REFUNDED and not order.grants_access
    assert not CreditGrant.objects.usable_by(candidate).exists()
