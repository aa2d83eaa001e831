from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from coaching.launcher import free_port
from tests.newsletter.factories import MailingListFactory


class Sink:
    """Collects every message an SMTP client completes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages: list[tuple[list[str], bytes]] = []
        self.mail_options: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
            self.mail_options.append(list(envelope.mail_options))
        return "250 OK"

    def per_recipient(self) -> Counter[str]:
        with self.lock:
            return Counter(r.lower() for rcpts, _ in self.messages for r in rcpts)

    def parsed(self) -> list[Any]:
        with self.lock:
            return [message_from_bytes(raw) for _, raw in self.messages]


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    sink = Sink()
    sink.port = free_port()  # type: ignore[attr-defined]
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)  # type: ignore[attr-defined]
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture
def smtp_settings(settings: Any, smtp_sink: Sink) -> Sink:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port  # type: ignore[attr-defined]
    settings.EMAIL_USE_TLS = False
    return smtp_sink


@pytest.fixture
def weekly(db: None) -> Any:
    return MailingListFactory()


@pytest.fixture(autouse=True)
def _run_on_commit_work_at_once(request: Any, monkeypatch: Any) -> None:
    """Inside a test's wrapping transaction nothing commits: enqueue at once instead."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        return
    import coaching.tasks
    import newsletter.services

    def now(task: Any, *args: Any) -> None:
        coaching.tasks.enqueue(task, *args)

    monkeypatch.setattr(coaching.tasks, "enqueue_on_commit", now)
    monkeypatch.setattr(newsletter.services, "enqueue_on_commit", now)
