"""Sending a campaign from the ledger: claim, re-check, send once, record.

How a message is never sent twice (and almost never lost)
----------------------------------------------------------
1. A sender claims up to `NEWSLETTER_BATCH_SIZE` due rows in one statement
   (`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`):
   status `sending`, a fresh claim id, a lease. Two senders never claim the same
   row; a row whose lease ran out (its sender died) can be claimed again.
2. For each row, over one SMTP connection reused for the whole batch, the sender
   checks (overlapped with MAIL and RCPT) that the row is still its own and the
   subscriber may still receive the list (confirmed, subscribed, not
   suppressed); if not, RSET and skip. Then DATA and the message content, but
   it holds back the final `.` that completes the message.
3. It then writes, back to back, the UPDATE that marks the row `sent` (same
   conditions, autocommit) to PostgreSQL and the final `.` to the SMTP server,
   and only afterwards reads both answers. The commit is the point of no return.
A sender killed before step 3 leaves a `sending` row whose message the server
never completed: it is claimed again after the lease and sent once. A sender
killed after step 3 has a `sent` row and a delivered message. Only a kill in
the microseconds between the two socket writes of step 3 loses a message (the
row says sent, the `.` never left). So the choice is at-most-once, with a
window of one system call per crash, and never a duplicate: a duplicate
newsletter costs trust and unsubscribes, one lost issue costs little.
(Waiting for PostgreSQL's answer before writing the `.` widened that window to
a network round trip and lost a message in the SIGKILL test.)

With a non-SMTP backend (an ESP through django-anymail, or locmem in tests) there
is no held-back `.`: the row is marked `sent` (same checks) just before the API
call and put back if the call fails, which keeps the same at-most-once rule.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
import logging
import re
import select
import smtplib
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import DatabaseError
from django.db import connection as db
from django.db.models import F
from django.utils import timezone
from psycopg import pq

from newsletter import rendering
from newsletter.models import Campaign, Delivery, Subscriber
from newsletter.rendering import Prepared, Wire, WireTemplate, prepare

log = logging.getLogger(__name__)

LOCK_NAMESPACE = 0x4E4C  # "NL": advisory lock keys (namespace + slot, campaign id)


def setting(name: str, default: Any) -> Any:
    return getattr(settings, f"NEWSLETTER_{name}", default)


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
                "lease": setting("LEASE_SECONDS", 300),
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
# The same UPDATE with libpq placeholders, for sending without waiting (see Commit).
RAW_MARK_SENT_SQL = (
    MARK_SENT_SQL.replace("%(id)s", "$1").replace("%(claim)s", "$2").replace("%(list)s", "$3")
).encode()


def mark_sent(delivery_id: int, claim: uuid.UUID, list_id: int) -> bool:
    with db.cursor() as cursor:
        cursor.execute(MARK_SENT_SQL, {"id": delivery_id, "claim": claim, "list": list_id})
        return cursor.rowcount == 1


RAW_ELIGIBLE_SQL = (
    ELIGIBLE_SQL.replace("%(id)s", "$1").replace("%(claim)s", "$2").replace("%(list)s", "$3")
).encode()


def _statement_name(sql: bytes) -> bytes:
    return b"newsletter_" + hashlib.sha1(sql, usedforsecurity=False).hexdigest()[:16].encode()


def _prepare(pgconn: Any, sql: bytes) -> bytes:
    """A server-side prepared statement, once per database session.

    Parsing and planning these statements cost PostgreSQL ~0.4 ms each time,
    more than the rest of a message's database work; prepared, ~0.03 ms.
    Looked up first rather than tried, because a failed PREPARE would abort a
    caller's transaction.
    """
    name = _statement_name(sql)
    found = pgconn.exec_params(b"SELECT 1 FROM pg_prepared_statements WHERE name = $1", [name])
    if found.status == pq.ExecStatus.TUPLES_OK and found.ntuples == 0:
        result = pgconn.prepare(name, sql)
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise DatabaseError(result.get_error_message())
    return name


# Which sessions have which statements: keyed by the libpq object and its server
# process, so that a new session (even at a reused address) prepares again.
_prepared: dict[tuple[int, int, int], bytes] = {}


def _pg_send(sql: bytes, values: list[bytes]) -> None:
    """Send one statement without waiting for its answer (libpq's asynchronous API)."""
    db.ensure_connection()
    pgconn = db.connection.pgconn
    key = (id(pgconn), pgconn.backend_pid, hash(sql))
    name = _prepared.get(key)
    if name is None:
        if len(_prepared) > 1000:
            _prepared.clear()
        name = _prepared[key] = _prepare(pgconn, sql)
    pgconn.send_query_prepared(name, values)
    while pgconn.flush() == 1:
        select.select([], [pgconn.socket], [], 1.0)


def _pg_collect() -> int:
    """Read the answer of `_pg_send`: rows returned or changed."""
    pgconn = db.connection.pgconn
    count, error = 0, ""
    while True:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [], 1.0)
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            break
        if result.status == pq.ExecStatus.TUPLES_OK:
            count = result.ntuples
        elif result.status == pq.ExecStatus.COMMAND_OK:
            count = int(result.command_tuples or 0)
        else:
            error = result.get_error_message()
    if error:
        raise DatabaseError(error)
    return count


class Commit:
    """The commit point of one message (see the module docstring).

    Both statements go out without waiting, so their round trips overlap with
    the SMTP exchange instead of adding to it.
    """

    def __init__(self, delivery_id: int, claim: uuid.UUID, list_id: int) -> None:
        self.delivery_id, self.claim, self.list_id = delivery_id, claim, list_id
        self.params = {"id": delivery_id, "claim": claim, "list": list_id}
        self.values = [str(v).encode() for v in (delivery_id, claim, list_id)]

    def start_check(self) -> None:
        _pg_send(RAW_ELIGIBLE_SQL, self.values)

    def check_result(self) -> bool:
        return _pg_collect() == 1

    def send(self) -> None:
        """Send the UPDATE and return at once: PostgreSQL commits it whatever we do next."""
        _pg_send(RAW_MARK_SENT_SQL, self.values)

    def result(self) -> bool:
        return _pg_collect() == 1

    def __call__(self) -> bool:
        """Check and commit in one go (backends without a held-back end of message)."""
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
    if attempts >= setting("MAX_ATTEMPTS", 5):
        fail(delivery_id, claim, reason, was=was)
        return "failed"
    delay = min(setting("RETRY_BASE_SECONDS", 30) * 2 ** (attempts - 1), 3600)
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
        lease_until=timezone.now() + dt.timedelta(seconds=setting("LEASE_SECONDS", 300))
    )


@contextmanager
def sender_slot(campaign_id: int) -> Any:
    """One sender per slot per campaign: a PostgreSQL advisory lock.

    The lock belongs to the database session, so a worker killed with SIGKILL
    releases it when its connection drops; no stale lock to clean up.
    `NEWSLETTER_SENDERS_PER_CAMPAIGN` slots (1 = strictly one sender at a time).
    """
    slots = max(1, int(setting("SENDERS_PER_CAMPAIGN", 2)))
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


# --- Transports ------------------------------------------------------------------


class Aborted(Exception):
    """The commit point refused this message; nothing was delivered."""


def _dot_stuff(data: bytes) -> bytes:
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


# Long List-Unsubscribe URLs must not be folded into RFC 2047 encoded words
# (mail providers would not find the URL): allow RFC 5322's 998-character lines.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)


class SMTPTransport:
    """Django's SMTP backend for the connection, our own DATA phase for the commit point."""

    def __init__(self, backend: SMTPBackend) -> None:
        self.backend = backend

    def open(self) -> None:
        self.backend.open()

    def close(self) -> None:
        try:
            self.backend.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            self.backend.connection = None

    def accepts_8bit(self) -> bool:
        """Whether the server takes 8bit bodies (8BITMIME); connects if needed."""
        if self.backend.connection is None:
            self.backend.open()
        smtp = self.backend.connection
        assert smtp is not None
        smtp.ehlo_or_helo_if_needed()
        return bool(smtp.has_extn("8bitmime"))

    def drop(self) -> None:
        """Close the socket without QUIT: an unfinished DATA is discarded by the server."""
        smtp = self.backend.connection
        self.backend.connection = None
        if smtp is not None and smtp.sock is not None:
            smtp.sock.close()
            smtp.sock = None

    def send(self, message: Any, commit: Commit) -> None:
        if self.backend.connection is None:
            self.backend.open()
        smtp = self.backend.connection
        assert smtp is not None
        if smtp.sock is not None:
            # The held-back "." is a tiny write after a large one: without this,
            # Nagle's algorithm and the server's delayed ACK add ~40 ms a message.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = ""
        if isinstance(message, Wire):  # pre-built bytes, already dot-stuffed
            sender, recipient, data = message.sender, message.recipient, message.data
            if message.eight_bit:
                body = " BODY=8BITMIME"  # RFC 6152; see accepts_8bit()
        else:
            sender = self.backend.prep_address(message.from_email)
            recipient = self.backend.prep_address(message.to[0])
            data = _dot_stuff(message.message(policy=WIRE_POLICY).as_bytes())
        smtp.ehlo_or_helo_if_needed()
        commit.start_check()
        try:
            # docmd rather than mail()/rcpt(): they re-parse the address every time.
            code, reply = smtp.docmd("mail", f"FROM:<{sender}>{body}")
            if code == 250:
                code, reply = smtp.docmd("rcpt", f"TO:<{recipient}>")
                refused: Exception | None = (
                    None
                    if code in (250, 251)
                    else smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
                )
            else:
                refused = smtplib.SMTPSenderRefused(code, reply, sender)
        finally:
            eligible = commit.check_result()  # always read, so the connection stays in step
        if refused is not None or not eligible:
            smtp.rset()
            raise refused or Aborted()
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        smtp.send(data)
        commit.send()
        smtp.send(b".\r\n")
        committed = commit.result()
        code, reply = smtp.getreply()
        if not committed:
            # Someone unsubscribed in the last microseconds: too late to stop it.
            log.warning("delivery %s went out as its subscriber left", commit.params["id"])
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)


class BackendTransport:
    """Any other Django email backend (anymail ESPs, locmem): commit, then hand over."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend

    def open(self) -> None:
        self.backend.open()

    def close(self) -> None:
        self.backend.close()

    def drop(self) -> None:
        self.close()

    def accepts_8bit(self) -> bool:
        return False  # the backend builds its own MIME from the EmailMessage

    def send(self, message: Any, commit: Commit) -> None:
        if not commit():
            raise Aborted
        if self.backend.send_messages([message]) != 1:
            raise smtplib.SMTPException("the backend did not accept the message")


def transport() -> SMTPTransport | BackendTransport:
    backend = mailers.default
    if isinstance(backend, SMTPBackend):
        return SMTPTransport(backend)
    return BackendTransport(backend)


PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return all(500 <= code < 600 for code in codes)
    code = getattr(error, "smtp_code", 0)
    return isinstance(error, PERMANENT) and 500 <= code < 600


# --- The sender loop -------------------------------------------------------------


# Addresses that go on the wire as they are; anything else (IDN, odd quoting) takes
# Django's slower path, which knows how to encode it.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def build_message(
    prepared: Prepared,
    *,
    to: str,
    name: str,
    delivery_id: int,
    subscriber_id: int,
    wire: WireTemplate | None,
) -> Any:
    """One recipient's message: pre-built bytes for SMTP, an EmailMessage for other backends."""
    if wire is not None and PLAIN_ADDRESS.fullmatch(to):
        return rendering.build_wire(
            wire, to=to, name=name, delivery_id=delivery_id, subscriber_id=subscriber_id
        )
    return rendering.build_message(
        prepared, to=to, name=name, delivery_id=delivery_id, subscriber_id=subscriber_id
    )


@contextmanager
def fast_commits() -> Any:
    """`synchronous_commit = off` for this sender's session, unless durable marks are asked for.

    Each "mark sent" is its own commit; waiting for its WAL flush (4 ms on this
    machine's disk) capped a sender at ~250 messages/s. Without the wait the
    commit is visible at once and survives a killed worker (the proofs), and is
    on disk within 3 x wal_writer_delay (0.6 s); only a crash of PostgreSQL itself
    in that window could forget a few "sent" marks, and those rows would be sent
    again after their lease. `NEWSLETTER_DURABLE_SENT_MARKS = True` trades speed
    for that case too.
    """
    if setting("DURABLE_SENT_MARKS", False):
        yield
        return
    with db.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
    try:
        yield
    finally:
        with db.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


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
    deadline = time.monotonic() + (seconds or setting("SENDER_SECONDS", 120))
    rate = float(setting("MAX_PER_SECOND", 0)) / max(1, int(setting("SENDERS_PER_CAMPAIGN", 2)))
    wire = rendering.compile_wire(prepared) if isinstance(transport(), SMTPTransport) else None
    threads = sender_threads()
    batch = max(1, int(setting("BATCH_SIZE", 1000)) // threads)

    def run(result: Outcome) -> None:
        link = transport()
        try:
            with fast_commits():
                _send_until_done(
                    campaign, prepared, wire, link, result, _Pacer(rate / threads), deadline, batch
                )
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
    wanted = max(1, int(setting("SENDER_THREADS", 4)))
    pool = (db.settings_dict.get("OPTIONS") or {}).get("pool")
    if isinstance(pool, dict) and pool.get("max_size"):
        wanted = min(wanted, int(pool["max_size"]))  # one pooled connection per thread
    return wanted


def _send_until_done(
    campaign: Campaign,
    prepared: Prepared,
    wire: WireTemplate | None,
    link: SMTPTransport | BackendTransport,
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
            stop = _send_batch(
                campaign, prepared, wire, claim, rows, link, outcome, pacer, deadline
            )
        finally:
            release(claim)
        if stop:
            outcome.stopped = stop
            return
    outcome.stopped = "deadline"


def _send_batch(
    campaign: Campaign,
    prepared: Prepared,
    wire: WireTemplate | None,
    claim: uuid.UUID,
    rows: list[tuple[int, int, int]],
    link: SMTPTransport | BackendTransport,
    outcome: Outcome,
    pacer: _Pacer,
    deadline: float,
) -> str:
    people = {
        pk: (email, name)
        for pk, email, name in Subscriber.objects.filter(
            pk__in=[subscriber_id for _, subscriber_id, _ in rows]
        ).values_list("pk", "email", "name")
    }
    list_id = campaign.mailing_list_id
    if wire is not None and wire.eight_bit and not link.accepts_8bit():
        wire = rendering.compile_wire(prepared, eight_bit=False)  # a server without 8BITMIME
    pause_after = int(setting("PAUSE_AFTER_ERRORS", 50))
    checked_at = time.monotonic()
    lease_at = checked_at
    for delivery_id, subscriber_id, attempts in rows:
        now = time.monotonic()
        if now - checked_at > 1.0:
            checked_at = now
            status = Campaign.objects.filter(pk=campaign.pk).values_list("status", flat=True)[0]
            if status != Campaign.Status.SENDING:
                return status
        if now - lease_at > setting("LEASE_SECONDS", 300) / 3:
            lease_at = now
            extend_lease(claim)
        if now > deadline:
            return "deadline"
        email, name = people.get(subscriber_id, ("", ""))
        message = build_message(
            prepared,
            to=email,
            name=name,
            delivery_id=delivery_id,
            subscriber_id=subscriber_id,
            wire=wire,
        )
        pacer.wait()
        try:
            link.send(message, Commit(delivery_id, claim, list_id))
        except Aborted:
            skip(delivery_id, claim, "no longer subscribed at send time")
            outcome.skipped += 1
            continue
        except Exception as error:  # noqa: BLE001 - SMTP, socket and ESP errors vary
            # The row may be `sending` (refused before the commit point) or
            # `sent` (the server refused the final dot): fix whichever it is.
            was = (
                Delivery.Status.SENT
                if _ours(delivery_id, claim, Delivery.Status.SENT).exists()
                else Delivery.Status.SENDING
            )
            if _is_permanent(error):
                fail(delivery_id, claim, str(error), was=was)
                outcome.failed += 1
            else:
                result = retry_later(delivery_id, claim, attempts, str(error), was=was)
                outcome.retried += result == "retried"
                outcome.failed += result == "failed"
                link.drop()
            log.warning("newsletter delivery %s failed: %s", delivery_id, error)
            errors = _count_error(campaign.pk)
            if errors >= pause_after:
                campaign.pause(f"Paused after {errors} errors; last: {str(error)[:200]}")
                return "paused"
            continue
        outcome.sent += 1
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
