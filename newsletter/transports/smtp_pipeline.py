"""The fast SMTP transport: pre-built wire bytes and a commit point inside DATA.

How a message is never sent twice (and almost never lost) over SMTP
-------------------------------------------------------------------
1. Over one SMTP connection reused for the whole batch, the transport checks
   (overlapped with MAIL and RCPT) that the row is still the sender's own and the
   subscriber may still receive the list; if not, RSET and skip. Then DATA and
   the message content, but it holds back the final `.` that completes the message.
2. It then writes, back to back, the UPDATE that marks the row `sent` (same
   conditions, autocommit) to PostgreSQL and the final `.` to the SMTP server,
   and only afterwards reads both answers. The commit is the point of no return.
A sender killed before step 2 leaves a `sending` row whose message the server
never completed: it is claimed again after the lease and sent once. A sender
killed after step 2 has a `sent` row and a delivered message. Only a kill in
the microseconds between the two socket writes of step 2 loses a message (the
row says sent, the `.` never left). (Waiting for PostgreSQL's answer before
writing the `.` widened that window to a network round trip and lost a message
in the SIGKILL test.)

Both statements go out without waiting (newsletter/pg_speed.py), so their round
trips overlap with the SMTP exchange instead of adding to it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import smtplib
import socket
from collections.abc import Generator, Iterable
from typing import Any

from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

from newsletter import pg_speed, rendering
from newsletter.rendering import Prepared
from newsletter.transports import smtp_wire
from newsletter.transports.base import Outgoing, Refused, Report, Result, failure
from newsletter.transports.smtp_wire import WIRE_POLICY, Wire, WireTemplate

log = logging.getLogger(__name__)

# Addresses that go on the wire as they are; anything else (IDN, odd quoting) takes
# Django's slower path, which knows how to encode it.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+")


def _dot_stuff(data: bytes) -> bytes:
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


class SMTPPipelineTransport:
    """Django's SMTP backend for the connection, our own DATA phase for the commit point."""

    name = "smtp"

    def __init__(self, backend: SMTPBackend) -> None:
        self.backend = backend
        self.prepared: Prepared | None = None
        self.wire: WireTemplate | None = None
        # An A/B test's other subject: its own pre-built headers, made on first use.
        self.other_subjects: dict[str, WireTemplate] = {}
        self.eight_bit = True

    def begin(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.wire = smtp_wire.compile_wire(prepared)
        self.other_subjects = {}

    def send_batch(self, batch: Iterable[Outgoing]) -> Generator[Report]:
        assert self.prepared is not None and self.wire is not None, "begin() first"
        if self.wire.eight_bit and not self.accepts_8bit():
            self.wire = smtp_wire.compile_wire(self.prepared, eight_bit=False)
            self.eight_bit, self.other_subjects = False, {}
        for item in batch:
            try:
                self.send(self.build(item), item)
            except Refused:
                yield Report(item.delivery_id, Result.SKIPPED, "no longer subscribed at send time")
                continue
            except Exception as error:  # noqa: BLE001 - SMTP and socket errors vary
                report = failure(error)
                report.delivery_id = item.delivery_id
                if report.result == Result.TRANSIENT:
                    self.drop()  # a fresh connection for the next message
                yield report
                continue
            yield Report(item.delivery_id, Result.SENT)

    def build(self, item: Outgoing) -> Any:
        """Pre-built bytes, or Django's message for an address that needs encoding."""
        assert self.prepared is not None
        wire = self.wire_for(item.subject)
        if wire is not None and PLAIN_ADDRESS.fullmatch(item.to):
            return smtp_wire.build_wire(
                wire,
                to=item.to,
                name=item.name,
                delivery_id=item.delivery_id,
                subscriber_id=item.subscriber_id,
            )
        return rendering.campaign_email(
            self.prepared,
            to=item.to,
            name=item.name,
            delivery_id=item.delivery_id,
            subscriber_id=item.subscriber_id,
            subject=item.subject,
        )

    def wire_for(self, subject: str) -> WireTemplate | None:
        assert self.prepared is not None
        if not subject or subject == self.prepared.subject:
            return self.wire
        if subject not in self.other_subjects:
            self.other_subjects[subject] = smtp_wire.compile_wire(
                dataclasses.replace(self.prepared, subject=subject), eight_bit=self.eight_bit
            )
        return self.other_subjects[subject]

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

    def send(self, message: Any, item: Outgoing) -> None:
        commit = item.commit
        if self.backend.connection is None:
            self.backend.open()
        smtp = self.backend.connection
        assert smtp is not None
        if smtp.sock is not None:
            # The held-back "." is a tiny write after a large one: without this,
            # Nagle's algorithm and the server's delayed ACK hold it back for a
            # delayed-ACK timeout on every message.
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
        pg_speed.send_statement(commit.check_sql, commit.params)
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
            eligible = pg_speed.collect() == 1  # always read, so the connection stays in step
        if refused is not None or not eligible:
            smtp.rset()
            raise refused or Refused()
        code, reply = smtp.docmd("data")
        if code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(code, reply)
        smtp.send(data)
        # Send the UPDATE and go on at once: PostgreSQL commits it whatever we do next.
        pg_speed.send_statement(commit.mark_sql, commit.params)
        smtp.send(b".\r\n")
        committed = pg_speed.collect() == 1
        code, reply = smtp.getreply()
        if not committed:
            # Someone unsubscribed in the last microseconds: too late to stop it.
            log.warning("delivery %s went out as its subscriber left", item.delivery_id)
        if code != 250:
            raise smtplib.SMTPDataError(code, reply)
