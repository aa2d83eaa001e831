"""Every trigger fires its rule once per person, however often beat scans."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from automations import services
from automations.models import Rule, Run
from bookings.models import Booking
from clients.models import Contact, Task
from tests.automations.factories import (
    engagement_of,
    inactive_subscriber,
    make_rule,
    past_discovery_call,
    record_offer,
    use_credits,
)
from tests.clients.factories import book, buy_package, make_contact

T = Rule.Trigger


def _every_trigger(coach: Any, candidate: Any, stranger: Any) -> dict[str, set[str]]:
    """One rule per trigger, then the events; returns who each rule should reach."""
    rules = {trigger: make_rule(trigger, task_title=f"Follow up: {trigger}") for trigger in T}
    buy_package(candidate, credits=3)
    buy_package(stranger, credits=4)
    use_credits(engagement_of(stranger), 4)
    booking = book(coach, email="noshow@example.com", hour=12)
    booking.mark(Booking.Status.NO_SHOW)
    past_discovery_call(coach, "quiet@example.com", days_ago=10)
    inactive_subscriber("sleepy@example.com", days=100)
    make_contact("sleepy@example.com")
    record_offer(make_contact("hired@example.com"))
    assert len(rules) == 7
    return {
        T.PURCHASE: {"candidate@example.com", "stranger@example.com"},
        T.PACKAGE_75: {"stranger@example.com"},
        T.PACKAGE_FINISHED: {"stranger@example.com"},
        T.NO_SHOW: {"noshow@example.com"},
        T.DISCOVERY_NO_PURCHASE: {"quiet@example.com"},
        T.INACTIVE: {"sleepy@example.com"},
        T.OFFER: {"hired@example.com"},
    }


def _reached(trigger: str) -> list[str]:
    return sorted(
        Run.objects.filter(rule__trigger=trigger).values_list("contact__email", flat=True)
    )


def _side_by_side(fn: Callable[[], object], count: int = 2) -> None:
    """`fn` in `count` threads started together, each on its own database connection."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            fn()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


@pytest.mark.django_db
def test_each_trigger_makes_one_run_per_person_from_its_signal_or_the_scan(
    coach: Any, candidate: Any, stranger: Any
) -> None:
    expected = _every_trigger(coach, candidate, stranger)
    services.scan()
    services.scan()
    for trigger, people in expected.items():
        assert _reached(trigger) == sorted(people), trigger


@pytest.mark.django_db
def test_signals_start_a_follow_up_before_any_scan(candidate: Any) -> None:
    rule = make_rule(T.PURCHASE)
    buy_package(candidate)
    run = Run.objects.get(rule=rule)
    assert run.trigger_key.startswith("order:")
    assert run.contact.email == "candidate@example.com"


@pytest.mark.django_db(transaction=True)
def test_every_trigger_fires_exactly_once_when_beat_runs_twice_and_side_by_side(
    coach: Any, candidate: Any, stranger: Any
) -> None:
    expected = _every_trigger(coach, candidate, stranger)
    services.scan()
    services.scan()  # a duplicated beat tick
    _side_by_side(services.scan)  # two workers scanning at the same moment
    _side_by_side(services.run_due)  # and two workers doing what is due
    services.run_due()
    for trigger, people in expected.items():
        assert _reached(trigger) == sorted(people), trigger
        runs = Run.objects.filter(rule__trigger=trigger)
        assert set(runs.values_list("status", flat=True)) == {Run.Status.DONE}, trigger
        tasks = Task.objects.filter(title=f"Follow up: {trigger}")
        assert sorted(tasks.values_list("contact__email", flat=True)) == sorted(people), trigger


@pytest.mark.django_db
def test_a_rule_does_not_reach_back_before_it_was_made(candidate: Any) -> None:
    buy_package(candidate)
    rule = make_rule(T.PURCHASE, active_since=Contact.objects.get().created_at.replace(year=2099))
    services.scan()
    assert not Run.objects.filter(rule=rule).exists()


@pytest.mark.django_db
def test_a_purchase_rule_for_one_product_ignores_other_products(candidate: Any) -> None:
    from store.models import Product

    order = buy_package(candidate)
    other = Product.objects.exclude(pk=order.items.get().product_id).first()
    if other is None:
        other = Product.objects.create(kind="coaching", slug="other", title="Other", summary="x")
    make_rule(T.PURCHASE, product=other)
    services.scan()
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_the_scan_looks_back_a_bounded_window_not_the_rules_whole_life() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from clients.models import Outcome

    offer = record_offer(make_contact("hired@example.com"))
    Run.objects.all().delete()  # as if the signal had failed
    Outcome.objects.filter(pk=offer.pk).update(
        created_at=timezone.now() - timedelta(days=services.SCAN_DAYS + 1)
    )
    make_rule(T.OFFER, name="Congratulate")
    assert services.scan() == 0
    Outcome.objects.filter(pk=offer.pk).update(
        created_at=timezone.now() - timedelta(days=services.SCAN_DAYS - 1)
    )
    assert services.scan() == 1


@pytest.mark.django_db
def test_a_failing_follow_up_receiver_never_fails_the_purchase(
    candidate: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automations import receivers
    from coaching.models import HookFailure
    from store.models import Order

    def broken(**kwargs: Any) -> int:
        raise RuntimeError("rules table locked")

    monkeypatch.setattr(receivers, "RAISE_ERRORS", False)
    monkeypatch.setattr(services, "on_source_changed", broken)
    make_rule(T.PURCHASE)
    order = buy_package(candidate)
    assert Order.objects.get(pk=order.pk).paid_at is not None
    failure = HookFailure.objects.get(hook="automations.receivers:store.order")
    assert "rules table locked" in failure.error
    services.scan()  # beat's scan makes the run the signal could not
    assert Run.objects.get().trigger_key == f"order:{order.pk}"
