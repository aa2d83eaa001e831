"""A PDF stamp that keeps failing: the coach is told once, the admin can start it again,
and the buyer's page says what is true."""

from __future__ import annotations

from typing import Any

import pytest
from celery.exceptions import Retry
from django.core import mail

from store import pdf
from store.models import StampedFile
from store.tasks import STAMP_ATTEMPTS, stamp_once, stamp_pdf, sweep_store
from tests.store.conftest import committed, post_event, session_completed, start_order

pytestmark = pytest.mark.django_db

WORKING_STAMP = pdf.stamp


@pytest.fixture
def broken_stamping(monkeypatch: Any) -> list[int]:
    calls: list[int] = []

    def broken(source: bytes, text: str) -> bytes:
        calls.append(1)
        raise ValueError("damaged PDF: no trailer")

    monkeypatch.setattr(pdf, "stamp", broken)
    return calls


def _worker_retries(stamp_pk: int) -> None:
    """What a worker does with each Retry: run the task again until it stops.
    (Inline, Celery raises the Retry to the caller instead.)"""
    for _ in range(STAMP_ATTEMPTS * 2):  # a bound, should the task never stop
        try:
            with committed():
                stamp_pdf.apply(args=[stamp_pk])
        except Retry:
            continue
        return


def _buy(client: Any, candidate: Any, product: Any) -> Any:
    order = start_order(product, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    _worker_retries(StampedFile.objects.get().pk)
    mail.outbox.clear()
    return order


def _coach_emails() -> list[Any]:
    return [m for m in mail.outbox if m.to == ["coach@example.com"]]


def test_the_coach_is_emailed_once_after_the_last_retry(
    client: Any, candidate: Any, coach: Any, product: Any, broken_stamping: list[int]
) -> None:
    order = start_order(product, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    stamp = StampedFile.objects.get()
    assert stamp.attempts == 1 and stamp.status == StampedFile.Status.PENDING
    assert _coach_emails() == []

    _worker_retries(stamp.pk)

    stamp.refresh_from_db()
    assert len(broken_stamping) == STAMP_ATTEMPTS
    assert stamp.status == StampedFile.Status.FAILED
    assert stamp.attempts == STAMP_ATTEMPTS
    assert "damaged PDF" in stamp.last_error
    assert stamp.coach_told_at is not None
    told = _coach_emails()
    assert len(told) == 1
    assert "could not be prepared" in told[0].subject
    assert "/admin/store/stampedfile/?status__exact=failed" in told[0].body

    # The beat sweep and a stray re-delivery find nothing left to do, and say nothing.
    with committed():
        sweep_store()
        assert stamp_once(stamp.pk) == "skipped"
    assert len(_coach_emails()) == 1


def test_no_email_goes_to_the_coach_before_the_last_attempt(
    client: Any, candidate: Any, coach: Any, product: Any, broken_stamping: list[int]
) -> None:
    _buy(client, candidate, product)
    stamp = StampedFile.objects.get()
    StampedFile.objects.filter(pk=stamp.pk).update(
        status=StampedFile.Status.PENDING, attempts=0, coach_told_at=None
    )
    with committed():
        assert stamp_once(stamp.pk) == "retry"
    assert _coach_emails() == []


def test_the_buyer_page_says_the_coach_was_emailed_and_try_again_really_starts_again(
    client: Any,
    candidate: Any,
    coach: Any,
    product: Any,
    broken_stamping: list[int],
    monkeypatch: Any,
) -> None:
    _buy(client, candidate, product)
    client.force_login(candidate)
    page = client.get("/library/").content.decode()
    assert "we could not prepare your personal copy" in page
    assert "We emailed the coach on" in page
    assert "you will get an email" in page
    file_pk = product.files.get().pk
    assert f'action="/library/files/{file_pk}/retry/"' in page

    # Fixed meanwhile (a new upload or a passing fault): "Try again" now gives the copy.
    monkeypatch.setattr(pdf, "stamp", WORKING_STAMP)
    with committed():
        response = client.post(f"/library/files/{file_pk}/retry/")
    assert response.status_code == 302
    stamp = StampedFile.objects.get()
    assert stamp.status == StampedFile.Status.READY
    assert "Download Study guide" in client.get("/library/").content.decode()
    # The page promised an email once it is ready.
    ready = [m for m in mail.outbox if m.to == ["candidate@example.com"]]
    assert len(ready) == 1 and "is ready" in ready[0].subject


def test_the_page_does_not_claim_the_coach_was_told_when_nobody_was(
    client: Any, candidate: Any, product: Any, broken_stamping: list[int]
) -> None:
    _buy(client, candidate, product)
    StampedFile.objects.update(coach_told_at=None)
    client.force_login(candidate)
    page = client.get("/library/").content.decode()
    assert "we could not prepare your personal copy" in page
    assert "emailed the coach" not in page


def test_the_admin_lists_failed_stamps_and_prepares_them_again(
    client: Any,
    coach_client: Any,
    candidate: Any,
    product: Any,
    broken_stamping: list[int],
    monkeypatch: Any,
) -> None:
    _buy(client, candidate, product)
    stamp = StampedFile.objects.get()
    listing = coach_client.get("/admin/store/stampedfile/?status__exact=failed")
    assert listing.status_code == 200
    assert "damaged PDF" in listing.content.decode()

    monkeypatch.setattr(pdf, "stamp", WORKING_STAMP)
    with committed():
        response = coach_client.post(
            "/admin/store/stampedfile/",
            {"action": "prepare_again", "_selected_action": [stamp.pk]},
        )
    assert response.status_code == 302
    stamp.refresh_from_db()
    assert stamp.status == StampedFile.Status.READY
    assert stamp.attempts == 0 and stamp.failed_at is None


def test_a_stamp_that_is_not_failed_is_not_started_again(
    client: Any, candidate: Any, product: Any
) -> None:
    from store.services import retry_stamp

    _buy(client, candidate, product)
    stamp = StampedFile.objects.get()
    assert stamp.status == StampedFile.Status.READY
    assert retry_stamp(stamp) is False
