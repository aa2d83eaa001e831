"""The Celery worker killed with SIGKILL mid-work: after a restart each piece is done once.

The newsletter's own kill test lives in tests/newsletter/test_worker.py; these
cover reminder sending and PDF stamping.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from tests.faults.conftest import Shop, Stack
from tests.faults.processes import Worker, base_env, smtp_env, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BOOKINGS = 100  # two due reminders each: one run of send_due_reminders takes 200


def open_transactions_older_than(ms: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and pid <> pg_backend_pid() and xact_start < now() - make_interval(secs => %s)",
            [ms / 1000],
        )
        return int(cursor.fetchone()[0])


def worker_env(stack: Stack) -> dict[str, str]:
    """The worker shares this process's broker (REDIS_URL), so tasks sent here reach it."""
    return base_env(MEDIA_ROOT=str(stack.media), **smtp_env(stack.smtp))


def make_due_reminders(shop: Shop) -> list[Any]:
    from bookings.models import Booking, BookingReminder
    from tests.faults.conftest import starts

    now = timezone.now()
    bookings = []
    for n, start in enumerate(starts(BOOKINGS, days_ahead=2)):
        booking = Booking(
            event_type=shop.event_type, coach=shop.coach, status="confirmed", name=f"Guest {n}",
            email=f"guest{n}@example.com", time_zone="Europe/London", confirmed_at=now,
        )  # fmt: skip
        booking.place(start)
        bookings.append(booking)
    Booking.objects.bulk_create(bookings)
    BookingReminder.objects.bulk_create(
        [
            BookingReminder(
                booking=booking, kind=kind, offset_minutes=minutes, for_start=booking.start,
                due_at=now - timedelta(minutes=1),
            )
            for booking in bookings
            for kind, minutes in (("candidate", 1440), ("prep_brief", 60))
        ]
    )  # fmt: skip
    return bookings


def test_reminders_interrupted_by_sigkill_are_sent_exactly_once_after_a_restart(
    shop: Shop, stack: Stack, processes: list[Any], real_celery: None
) -> None:
    from bookings.models import BookingReminder
    from bookings.tasks import send_due_reminders_task
    from coaching.models import OutboundEmail

    make_due_reminders(shop)
    first = Worker(worker_env(stack), name="first").start()
    processes.append(first)
    send_due_reminders_task.delay()
    wait_for(lambda: open_transactions_older_than(300), "the reminder run to be under way", 60)
    first.kill(signal.SIGKILL)
    # The run was one transaction: killed inside it, it sent and recorded nothing.
    assert not BookingReminder.objects.filter(status="sent").exists()
    assert not OutboundEmail.objects.exists()

    processes.append(Worker(worker_env(stack), name="second").start())
    send_due_reminders_task.delay()  # beat, a minute later
    send_due_reminders_task.delay()  # and again: a second run finds nothing due
    wait_for(
        lambda: BookingReminder.objects.filter(status="sent").count() == 2 * BOOKINGS,
        "every reminder to be sent",
        timeout=90,
    )
    wait_for(
        lambda: OutboundEmail.objects.filter(status="sent").count() == 2 * BOOKINGS,
        "every reminder email to leave the outbox",
        timeout=60,
    )
    arrived = stack.smtp.subjects()
    assert sum(arrived.values()) == 2 * BOOKINGS
    assert max(arrived.values()) == 1, "a reminder was sent twice"


def test_pdf_stamping_interrupted_by_sigkill_completes_once_for_every_buyer(
    shop: Shop, stack: Stack, processes: list[Any], real_celery: None
) -> None:
    from coaching.models import User
    from store.models import StampedFile
    from store.tasks import stamp_pdf, sweep_store
    from tests.store.conftest import start_order

    version = shop.product.files.get().current_version
    stamps = []
    for n in range(40):
        buyer = User.objects.create_user(f"reader{n}@example.com")
        order = start_order(shop.product, email=buyer.email, user=buyer)
        stamps.append(StampedFile.objects.create(user=buyer, version=version, order=order))
    worker = Worker(worker_env(stack), name="stamper", concurrency=1).start()
    processes.append(worker)
    for stamp in stamps:
        stamp_pdf.delay(stamp.pk)
    wait_for(lambda: StampedFile.objects.filter(status="ready").count() >= 5, "stamping", 60)
    # The pool process dies (as under the OOM killer): its task goes back to the queue.
    for child in worker.children():
        os.kill(child, signal.SIGKILL)
    wait_for(lambda: StampedFile.objects.filter(status="ready").count() >= 20, "more stamps", 60)
    # Then the whole worker dies: its prefetched, unacknowledged task waits for beat's sweep.
    worker.kill(signal.SIGKILL)
    assert StampedFile.objects.exclude(status="ready").exists(), "the kill must land mid-work"

    processes.append(Worker(worker_env(stack), name="restarted", concurrency=1).start())
    for stamp in StampedFile.objects.filter(status="pending"):
        stamp_pdf.delay(stamp.pk)  # what a redelivered message does
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=True):
        sweep_store()  # and what beat's sweep does, racing it
    wait_for(
        lambda: StampedFile.objects.filter(status="ready").count() == len(stamps),
        "every stamp to be ready",
        timeout=90,
    )
    assert StampedFile.objects.count() == len(stamps)
    for stamp in StampedFile.objects.all():
        with stamp.file.open("rb") as handle:
            assert handle.read(5) == b"%PDF-", stamp.pk
