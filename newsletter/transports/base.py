"""What every newsletter transport promises the sender (newsletter/sending.py).

A transport is handed a campaign once (`begin`), then a batch of addressed
messages, and reports on each recipient in order: sent, skipped (the commit
point refused: the person left or another sender owns the row), a transient
failure (retry later) or a permanent one (never retry), with the reason.

Before it hands a message over for good, a transport must call the message's
commit point and honour its answer: that is what makes a newsletter go out at
most once (see newsletter/sending.py). When exactly it calls it is the
transport's business: the smtp transport overlaps it with its own protocol.
"""

from __future__ import annotations

import enum
import smtplib
from collections.abc import Generator, Iterable
from dataclasses import dataclass
from typing import Protocol

from newsletter.rendering import Prepared


class CommitPoint(Protocol):
    """The sender's promise for one row, written by newsletter/sending.py."""

    delivery_id: int
    check_sql: str  # psycopg statements; a row comes back / changes when allowed
    mark_sql: str
    params: dict[str, object]

    def __call__(self) -> bool:
        """Check and mark the row sent in one statement; False: do not send."""
        ...


@dataclass
class Outgoing:
    """One recipient of the batch and the commit point of their row."""

    delivery_id: int
    subscriber_id: int
    to: str
    name: str
    commit: CommitPoint
    # An A/B test's other subject for this recipient (newsletter/abtest.py); empty: the
    # campaign's own.
    subject: str = ""


class Result(enum.StrEnum):
    SENT = "sent"
    SKIPPED = "skipped"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass
class Report:
    delivery_id: int
    result: Result
    reason: str = ""


class Transport(Protocol):
    name: str

    def begin(self, prepared: Prepared) -> None:
        """The campaign about to be sent: per-campaign work happens here, once."""

    def send_batch(self, batch: Iterable[Outgoing]) -> Generator[Report]:
        """One report per message, in order, as each is done.

        The batch may be a generator: the caller can stop consuming reports at
        any time (pause, deadline), and then no further message is taken.
        """
        ...

    def close(self) -> None: ...


class Refused(Exception):
    """The commit point refused this message; nothing was delivered."""


PERMANENT_SMTP = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


def failure(error: Exception) -> Report:
    """A transient or permanent failure, from an SMTP reply code where there is one.

    ESP backends (anymail) report a rejected recipient through the same SMTP
    classes or their own errors; anything without a 5xx code is worth a retry.
    """
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        permanent = all(500 <= code < 600 for code in codes)
    elif _anymail_refused(error):
        permanent = True
    else:
        code = getattr(error, "smtp_code", 0)
        permanent = isinstance(error, PERMANENT_SMTP) and 500 <= code < 600
    return Report(0, Result.PERMANENT if permanent else Result.TRANSIENT, str(error))


def _anymail_refused(error: Exception) -> bool:
    """An ESP said no to every recipient (anymail's own class, when anymail is installed)."""
    try:
        from anymail.exceptions import AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - anymail is a dependency of the project
        return False
    return isinstance(error, AnymailRecipientsRefused)
