"""Redis stopped while visitors read, book and buy: nothing lost, nothing sent twice."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from coaching.models import OutboundEmail
from tests.faults.conftest import Shop, Stack, book, buy, starts
from tests.faults.processes import Worker, request, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def run_beat_sweeps() -> None:
    """What beat does every minute, run here once the outbox rows are old enough to sweep."""
    from coaching.tasks import send_pending_outbox
    from store.tasks import sweep_store

    with time_machine.travel(timezone.now() + timedelta(minutes=4), tick=True):
        sweep_store()
        send_pending_outbox()


def test_with_redis_down_pages_serve_bookings_and_orders_save_and_emails_follow_once(
    shop: Shop, stack: Stack, processes: list[Any]
) -> None:
    from bookings.models import Booking
    from store.models import Entitlement, Order, StripeEvent

    redis, web, sink = stack.redis, stack.web, stack.smtp
    processes.append(Worker(stack.env()).start())
    pages = ["/", "/guides/", *[guide.get_absolute_url() for guide in shop.guides], "/store/"]
    for path in pages:  # warm the page cache while Redis is up
        assert request(web.url + path)[0] == 200, path
    times = starts(4)

    redis.stop()
    assert request(web.url + "/healthz")[1].count(b'"down"') >= 1
    # Each process may serve its own copy of a page for PAGE_CACHE_LOCAL_SECONDS;
    # after that a page is rendered afresh, without Redis (and may be kept again).
    time.sleep(float(stack.env()["PAGE_CACHE_LOCAL_SECONDS"]) + 0.2)
    for path in pages:
        status, body, headers = request(web.url + path)
        assert status == 200, (path, status)
        assert headers.get("X-Page-Cache") != "hit", path
    for path in pages:
        assert request(web.url + path)[0] == 200, path
    booked = [book(web.url, shop, start, f"visitor{n}@example.com") for n, start in
              enumerate(times[:3])]  # fmt: skip
    assert [status for status, _ in booked] == [201, 201, 201], booked
    bought = [buy(web.url, shop.product.get_absolute_url(), f"buyer{n}@example.com")
              for n in range(2)]  # fmt: skip
    assert [purchase["status"] for purchase in bought] == [200, 200]

    assert Booking.objects.filter(status="confirmed").count() == 3
    assert Order.objects.exclude(paid_at=None).count() == 2
    owed = OutboundEmail.objects.count()
    # Each booking owes the candidate's confirmation and the coach's notice; each order a receipt.
    assert owed >= 3 * 2 + 2
    assert OutboundEmail.objects.filter(status="pending").count() == owed
    assert sink.count() == 0, "nothing can have been sent through a dead broker"

    redis.start()
    # The same servers, not restarted, hand new work to Celery again.
    status, _ = book(web.url, shop, times[3], "after@example.com")
    assert status == 201
    wait_for(
        lambda: not OutboundEmail.objects.filter(to="after@example.com", status="pending").exists(),
        "the worker to send the email owed after Redis came back",
        timeout=45,
    )
    run_beat_sweeps()
    run_beat_sweeps()  # a second sweep finds nothing left to send

    assert not OutboundEmail.objects.exclude(status="sent").exists()
    assert not StripeEvent.objects.filter(processed_at=None).exists()
    assert Entitlement.objects.filter(status="active").count() == 2
    arrived = sink.subjects()
    assert sum(arrived.values()) == OutboundEmail.objects.count(), arrived
    assert max(arrived.values()) == 1, "an email was sent twice"
    for email in OutboundEmail.objects.all():
        assert arrived[(email.to.lower(), " ".join(email.subject.split()))] == 1, email
