"""Sending a campaign from the ledger: claim, re-check, send once, record.

This module decides who gets what; `newsletter/transports/` decides how the
bytes travel (`NEWSLETTER_TRANSPORT`: the fast SMTP pipeline, or any Django
email backend such as an anymail ESP). The sender sees only the transport's
interface: a batch of addressed messages in, one report per recipient out.

How a message is never sent twice (and almost never lost)
----------------------------------------------------------
1. A sender claims up to `NEWSLETTER_BATCH_SIZE` due rows in one statement
   (`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`):
   status `sending`, a fresh claim id, a lease. Two senders never claim the same
   row; a row whose lease ran out (its sender died) can be claimed again.
2. Each message carries its row's commit point (`Commit`): one UPDATE that marks
   the row `sent` only if it is still this sender's claim and the subscriber may
   still receive the list (confirmed, subscribed, not suppressed). A transport
   calls it before the message is out of its hands and drops the message if it
   refuses; the smtp transport runs it between the message and its final `.`
   (see newsletter/transports/smtp_pipeline.py), others just before handing over.
3. A failure after the commit point puts the row back (retry later) or marks it
   failed; a sender killed before it leaves a `sending` row that is claimed
   again after the lease and sent once.
4. The server's acknowledgement is recorded too (`accepted_at`, a few rows at
   a time, `ACCEPTED_FLUSH`).
So the choice is at-most-once, with a window of one system call per crash, and
never a duplicate: a duplicate newsletter costs trust and unsubscribes, one lost
issue costs little. No two-system protocol closes that window (the mail server
cannot be asked afterwards whether a message arrived), so it is made visible
instead: a `sent` row left without `accepted_at` once the campaign is over is
one whose sender died while handing it over, at most one per killed connection
plus its unflushed acknowledgements; the campaign's progress counts them as
"unconfirmed" (tests/newsletter/test_worker.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection as db
from django.db.models import F
from django.utils import timezone

from newsletter import pg_speed, transports
from newsletter.models import Campaign, Delivery, Subscriber
from newsletter.rendering import prepare
from newsletter.transports import Outgoing, Report, Result, Transport

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x4E4C  # "NL": advisory lock keys (namespace + slot, campaign id)


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    stopped: str = ""


# --- The ledger, in SQL ---------------------------------------------------------

CLAIM_SQL = """
UPDATE newsletter_delivery AS d
   SET status = 'sending', claim = %(claim)s, attempts = d.attempts + 1,
       lease_until = clock_timestamp() + make_interval(secs => %(lease)s)
  FROM (SELECT id FROM newsletter_delivery
         WHERE campaign_id = %(campaign)s AND due_at <= clock_timestamp()
           AND (status = 'pending' OR (status = 'sending' AND lease_until < clock_timestamp()))
         ORDER BY due_at, id
         LIMIT %(limit)s
         FOR UPDATE SKIP LOCKED) AS c
 WHERE d.id = c.id
RETURNING d.id, d.subscriber_id, d.attempts
"""

# The commit point: claimed by us, and the subscriber may still receive this list.
MARK_SENT_SQL = """
UPDATE newsletter_delivery AS d
   SET status = 'sent', sent_at = clock_timestamp(), lease_until = NULL
 WHERE d.id = %(id)s AND d.claim = %(claim)s AND d.status = 'sending'
   AND EXISTS (
     SELECT 1 FROM newsletter_subscriber s
       JOIN newsletter_subscription sc ON sc.subscriber_id = s.id
      WHERE s.id = d.subscriber_id AND s.status = 'confirmed'
        AND sc.mailing_list_id = %(list)s AND sc.status = 'subscribed'
        AND NOT EXISTS (SELECT 1 FROM newsletter_suppression x WHERE x.email IN (
              s.email_lower,
              'erased:' || encode(sha256(convert_to(s.email_lower, 'UTF8')), 'hex'))))
"""  # the second is newsletter.models.erased_marker() in SQL (tests/clients/test_privacy.py)


def claim_batch(campaign_id: int, claim: uuid.UUID, limit: int) -> list[tuple[int, int, int]]:
    with db.cursor() as cursor:
        cursor.execute(
            CLAIM_SQL,
            {
                "claim": claim,
                "lease": settings.NEWSLETTER_LEASE_SECONDS,
                "campaign": campaign_id,
                "limit": limit,
            },
        )
        return list(cursor.fetchall())


ELIGIBLE_SQL = MARK_SENT_SQL.replace(
    "UPDATE newsletter_delivery AS d\n   SET status = 'sent', sent_at = clock_timestamp(), "
    "lease_until = NULL\n",
    "SELECT 1 FROM newsletter_delivery AS d\n",
)


ACCEPTED_FLUSH = 20  # acknowledgements recorded per statement


def record_accepted(delivery_ids: list[int]) -> None:
    """The mail server acknowledged these messages (see point 4 above)."""
    if delivery_ids:
        Delivery.objects.filter(pk__in=delivery_ids, status=Delivery.Status.SENT).update(
            accepted_at=timezone.now()
        )
        delivery_ids.clear()


def mark_sent(delivery_id: int, claim: uuid.UUID, list_id: int) -> bool:
    with db.cursor() as cursor:
        cursor.execute(MARK_SENT_SQL, {"id": delivery_id, "claim": claim, "list": list_id})
        return cursor.rowcount == 1


class Commit:
    """The commit point of one row (see the module docstring): the ledger's say-so.

    Calling it checks and marks in one statement; a transport that overlaps the
    two steps with its own protocol runs `check_sql` and `mark_sql` itself.
    """

    check_sql = ELIGIBLE_SQL
    mark_sql = MARK_SENT_SQL

    def __init__(self, delivery_id: int, claim: uuid.UUID, list_id: int) -> None:
        self.delivery_id, self.claim, self.list_id = delivery_id, claim, list_id
        self.params: dict[str, object] = {"id": delivery_id, "claim": claim, "list": list_id}

    def __call__(self) -> bool:
        return mark_sent(self.delivery_id, self.claim, self.list_id)


def _ours(delivery_id: int, claim: uuid.UUID, status: str) -> Any:
    return Delivery.objects.filter(pk=delivery_id, claim=claim, status=status)


def skip(delivery_id: int, claim: uuid.UUID, reason: str) -> bool:
    """The commit point refused: skip the row if it is still ours (else another sender has it)."""
    return bool(
        _ours(delivery_id, claim, Delivery.Status.SENDING).update(
            status=Delivery.Status.SKIPPED, error=reason[:300], lease_until=None
        )
    )


def fail(delivery_id: int, claim: uuid.UUID, reason: str, *, was: str) -> None:
    _ours(delivery_id, claim, was).update(
        status=Delivery.Status.FAILED, error=reason[:300], lease_until=None, sent_at=None
    )


def retry_later(delivery_id: int, claim: uuid.UUID, attempts: int, reason: str, *, was: str) -> str:
    """A transient error: back to pending with an exponential back-off, or failed at the cap."""
    if attempts >= settings.NEWSLETTER_MAX_ATTEMPTS:
        fail(delivery_id, claim, reason, was=was)
        return "failed"
    delay = min(settings.NEWSLETTER_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 3600)
    _ours(delivery_id, claim, was).update(
        status=Delivery.Status.PENDING,
        due_at=timezone.now() + dt.timedelta(seconds=delay),
        error=reason[:300],
        claim=None,
        lease_until=None,
        sent_at=None,
    )
    return "retried"


def release(claim: uuid.UUID) -> int:
    """Give back rows claimed but not sent (pause, cancel, end of a run)."""
    return Delivery.objects.filter(claim=claim, status=Delivery.Status.SENDING).update(
        status=Delivery.Status.PENDING, claim=None, lease_until=None
    )


def extend_lease(claim: uuid.UUID) -> None:
    Delivery.objects.filter(claim=claim, status=Delivery.Status.SENDING).update(
        lease_until=timezone.now() + dt.timedelta(seconds=settings.NEWSLETTER_LEASE_SECONDS)
    )


@contextmanager
def sender_slot(campaign_id: int) -> Any:
    """One sender per slot per campaign: a PostgreSQL advisory lock.

    The lock belongs to the database session, so a worker killed with SIGKILL
    releases it when its connection drops; no stale lock to clean up.
    `NEWSLETTER_SENDERS_PER_CAMPAIGN` slots (1 = strictly one sender at a time).
    """
    slots = max(1, int(settings.NEWSLETTER_SENDERS_PER_CAMPAIGN))
    held: int | None = None
    with db.cursor() as cursor:
        for slot in range(slots):
            cursor.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE + slot, campaign_id]
            )
            if cursor.fetchone()[0]:
                held = slot
                break
    try:
        yield held
    finally:
        if held is not None:
            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE + held, campaign_id]
                )


# --- The sender loop -------------------------------------------------------------


def send_campaign(campaign_id: int, *, seconds: float | None = None) -> Outcome:
    """Send due rows of one campaign until done, paused, out of time, or no slot free."""
    outcome = Outcome()
    with sender_slot(campaign_id) as slot:
        if slot is None:
            outcome.stopped = "busy"
            return outcome
        _send_with_slot(campaign_id, outcome, seconds)
    return outcome


def _send_with_slot(campaign_id: int, outcome: Outcome, seconds: float | None) -> None:
    campaign = Campaign.objects.select_related("mailing_list").get(pk=campaign_id)
    if campaign.status != Campaign.Status.SENDING:
        outcome.stopped = campaign.status
        return
    prepared = prepare(campaign)
    deadline = time.monotonic() + (seconds or settings.NEWSLETTER_SENDER_SECONDS)
    rate = float(settings.NEWSLETTER_MAX_PER_SECOND) / max(
        1, int(settings.NEWSLETTER_SENDERS_PER_CAMPAIGN)
    )
    threads = sender_threads()
    batch = max(1, int(settings.NEWSLETTER_BATCH_SIZE) // threads)

    def run(result: Outcome) -> None:
        link = transports.chosen()
        try:
            link.begin(prepared)
            with pg_speed.commits_without_flush_wait():
                _send_until_done(campaign, link, result, _Pacer(rate / threads), deadline, batch)
        finally:
            link.close()

    if threads == 1:
        run(outcome)
        return
    results = [Outcome() for _ in range(threads)]
    errors: list[BaseException] = []

    def in_thread(result: Outcome) -> None:
        try:
            run(result)
        except BaseException as error:  # noqa: BLE001 - re-raised in the sender below
            errors.append(error)
        finally:
            db.close()  # each thread has its own database connection

    workers = [threading.Thread(target=in_thread, args=(r,), daemon=True) for r in results[1:]]
    for worker in workers:
        worker.start()
    try:
        run(results[0])  # this thread's connection also holds the sender slot
    finally:
        for worker in workers:
            worker.join()
    for result in results:
        outcome.sent += result.sent
        outcome.failed += result.failed
        outcome.skipped += result.skipped
        outcome.retried += result.retried
    stops = [result.stopped for result in results]
    outcome.stopped = next((s for s in stops if s not in {"empty", "deadline"}), "") or (
        "deadline" if "deadline" in stops else "empty"
    )
    if errors:
        raise errors[0]


def sender_threads() -> int:
    """SMTP connections one sender drives at once, each in a thread with its own claim.

    The per-message protocol waits for four SMTP replies and two database answers;
    a few connections side by side keep the server busy during those waits. Inside
    a transaction (tests, or a caller's atomic block) other connections could not
    see the caller's rows, so one thread only.
    """
    if db.in_atomic_block:
        return 1
    wanted = max(1, int(settings.NEWSLETTER_SENDER_THREADS))
    pool = (db.settings_dict.get("OPTIONS") or {}).get("pool")
    if isinstance(pool, dict) and pool.get("max_size"):
        wanted = min(wanted, int(pool["max_size"]))  # one pooled connection per thread
    return wanted


def _send_until_done(
    campaign: Campaign,
    link: Transport,
    outcome: Outcome,
    pacer: _Pacer,
    deadline: float,
    batch: int,
) -> None:
    while time.monotonic() < deadline:
        claim = uuid.uuid4()
        rows = claim_batch(campaign.pk, claim, batch)
        if not rows:
            outcome.stopped = "empty"
            return
        try:
            stop = _send_batch(campaign, claim, rows, link, outcome, pacer, deadline)
        finally:
            release(claim)
        if stop:
            outcome.stopped = stop
            return
    outcome.stopped = "deadline"


def _send_batch(
    campaign: Campaign,
    claim: uuid.UUID,
    rows: list[tuple[int, int, int]],
    link: Transport,
    outcome: Outcome,
    pacer: _Pacer,
    deadline: float,
) -> str:
    """Hand the claimed rows to the transport and record what it reports, row by row."""
    people = {
        pk: (email, name)
        for pk, email, name in Subscriber.objects.filter(
            pk__in=[subscriber_id for _, subscriber_id, _ in rows]
        ).values_list("pk", "email", "name")
    }
    attempts_of = {delivery_id: attempts for delivery_id, _, attempts in rows}
    subjects = _variant_subjects(campaign, list(attempts_of))
    stopped = ""

    def due() -> Iterator[Outgoing]:
        """The rows, one at a time, while the campaign still sends and time is left."""
        nonlocal stopped
        checked_at = lease_at = time.monotonic()
        for delivery_id, subscriber_id, _ in rows:
            now = time.monotonic()
            if now - checked_at > 1.0:
                checked_at = now
                status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)[0]
                if status != Campaign.Status.SENDING:
                    stopped = status
                    return
            if now - lease_at > settings.NEWSLETTER_LEASE_SECONDS / 3:
                lease_at = now
                extend_lease(claim)
            if now > deadline:
                stopped = "deadline"
                return
            email, name = people.get(subscriber_id, ("", ""))
            pacer.wait()
            commit = Commit(delivery_id, claim, campaign.mailing_list_id)
            yield Outgoing(
                delivery_id, subscriber_id, email, name, commit, subjects.get(delivery_id, "")
            )

    accepted: list[int] = []
    with closing(link.send_batch(due())) as reports:
        try:
            paused = _record_reports(campaign, claim, reports, attempts_of, accepted, outcome)
        finally:
            record_accepted(accepted)
    return paused or stopped


def _variant_subjects(campaign: Campaign, delivery_ids: list[int]) -> dict[int, str]:
    """Rows of an A/B test that get the second subject (newsletter/abtest.py)."""
    if not campaign.subject_b:
        return {}
    rows = Delivery.objects.filter(pk__in=delivery_ids, variant__in=["b", "B"])
    return dict.fromkeys(rows.values_list("pk", flat=True), campaign.subject_b)


def _record_reports(
    campaign: Campaign,
    claim: uuid.UUID,
    reports: Iterator[Report],
    attempts_of: dict[int, int],
    accepted: list[int],
    outcome: Outcome,
) -> str:
    """Write each transport report to the ledger; "paused" if errors piled up."""
    pause_after = int(settings.NEWSLETTER_PAUSE_AFTER_ERRORS)
    for report in reports:
        delivery_id = report.delivery_id
        if report.result == Result.SENT:
            outcome.sent += 1
            accepted.append(delivery_id)
            if len(accepted) >= ACCEPTED_FLUSH:
                record_accepted(accepted)
            continue
        if report.result == Result.SKIPPED:
            skip(delivery_id, claim, report.reason)
            outcome.skipped += 1
            continue
        # The row may be `sending` (refused before the commit point) or
        # `sent` (refused after it): fix whichever it is.
        was = (
            Delivery.Status.SENT
            if _ours(delivery_id, claim, Delivery.Status.SENT).exists()
            else Delivery.Status.SENDING
        )
        if report.result == Result.PERMANENT:
            fail(delivery_id, claim, report.reason, was=was)
            outcome.failed += 1
        else:
            result = retry_later(
                delivery_id, claim, attempts_of[delivery_id], report.reason, was=was
            )
            outcome.retried += result == "retried"
            outcome.failed += result == "failed"
        log.warning("newsletter delivery %s failed: %s", delivery_id, report.reason)
        errors = _count_error(campaign.pk)
        if errors >= pause_after:
            campaign.pause(f"Paused after {errors} errors; last: {report.reason[:200]}")
            return "paused"
    return ""


def _count_error(campaign_id: int) -> int:
    Campaign.objects.filter(pk=campaign_id).update(error_count=F("error_count") + 1)
    return Campaign.objects.filter(pk=campaign_id).values_list("error_count", flat=True)[0]


class _Pacer:
    """Keeps one sender under its share of `NEWSLETTER_MAX_PER_SECOND` (0: no cap)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_at = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        if self.next_at > now:
            time.sleep(self.next_at - now)
        self.next_at = max(self.next_at, now) + self.interval


def finish_if_done(campaign_id: int) -> bool:
    """Sending -> sent when no row is left to send (pending or claimed)."""
    busy = Delivery.objects.filter(
        campaign_id=campaign_id, status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING]
    ).exists()
    if busy:
        return False
    campaign = Campaign.objects.get(pk=campaign_id)
    return campaign.mark_sent()
