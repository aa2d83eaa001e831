"""The portable transport: any Django email backend (anymail's ESPs, SMTP, locmem).

There is no held-back end of message here: the row is marked `sent` (same
checks as over SMTP) just before the backend is called, and the sender puts it
back if the call fails, which keeps the same at-most-once rule.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from typing import Any

from newsletter import rendering
from newsletter.rendering import Prepared
from newsletter.transports.base import Outgoing, Report, Result, failure


class BackendRefused(Exception):
    """The backend returned without sending (its send_messages count was 0)."""


class DjangoBackendTransport:
    name = "django"

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.prepared: Prepared | None = None
        self.opened = False

    def begin(self, prepared: Prepared) -> None:
        self.prepared = prepared

    def send_batch(self, batch: Iterable[Outgoing]) -> Generator[Report]:
        assert self.prepared is not None, "begin() first"
        for item in batch:
            message = rendering.campaign_email(
                self.prepared,
                to=item.to,
                name=item.name,
                delivery_id=item.delivery_id,
                subscriber_id=item.subscriber_id,
                subject=item.subject,
            )
            if not item.commit():
                yield Report(item.delivery_id, Result.SKIPPED, "no longer subscribed at send time")
                continue
            try:
                if not self.opened:
                    # Held open across calls: Django's SMTP backend and anymail's
                    # HTTP session otherwise connect again for every message.
                    self.backend.open()
                    self.opened = True
                # One message a call: a backend's count says nothing about which
                # message of several failed, and each recipient needs a report.
                if self.backend.send_messages([message]) != 1:
                    raise BackendRefused("the backend did not accept the message")
            except Exception as error:  # noqa: BLE001 - SMTP, HTTP and ESP errors vary
                report = failure(error)
                report.delivery_id = item.delivery_id
                if report.result == Result.TRANSIENT:
                    self.reset()
                yield report
                continue
            yield Report(item.delivery_id, Result.SENT)

    def reset(self) -> None:
        """After a transient error, a fresh connection for the next message."""
        self.opened = False
        try:
            self.backend.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            if hasattr(self.backend, "connection"):
                self.backend.connection = None

    def close(self) -> None:
        self.reset()
