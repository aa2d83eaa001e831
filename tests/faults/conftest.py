"""Fixtures for the fault tests: real servers around a small shop, and their clean-up.

Every test here runs against the test database through `transaction=True`, so
what a gunicorn or Celery child writes is visible to the test and vice versa.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.faults.processes import (
    WEBHOOK_SECRET,
    Process,
    RedisServer,
    SmtpSink,
    WebServer,
    base_env,
    smtp_env,
)


@dataclass
class Shop:
    """What visitors read, book and buy in the fault tests."""

    coach: Any
    event_type: Any
    product: Any
    guides: list[Any]
    media: Path

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(MEDIA_ROOT=str(self.media), **extra)


@pytest.fixture
def shop(coach: Any, settings: Any, stack: Stack) -> Shop:
    from coaching.models import CoachProfile
    from guides.models import Category, Guide
    from tests.bookings.factories import make_event_type
    from tests.store.factories import ProductFactory, add_pdf

    media = stack.media
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    category = Category.objects.create(name="Interviews", slug="interviews")
    guides = [
        Guide.objects.create(
            title=f"Guide {n}",
            slug=f"guide-{n}",
            summary="A guide.",
            category=category,
            body=f"## Part {n}\n\nText of guide {n}.\n\n<!-- more -->\n\nPaid part {n}.",
            visibility="paid" if n == 0 else "public",
            status="published",
            published_at=timezone.now() - timedelta(days=1),
        )  # fmt: skip
        for n in range(3)
    ]
    product = ProductFactory(slug="study-guide", title="Study guide", price=2900)
    product.guides.add(guides[0])
    add_pdf(product)
    return Shop(
        coach=coach,
        event_type=make_event_type(coach, slug="discovery-call"),
        product=product,
        guides=guides,
        media=media,
    )


@dataclass
class Stack:
    """One Redis, one SMTP sink and one gunicorn for the whole fault module run.

    Starting gunicorn costs seconds on a busy machine, so the servers outlive a
    test; each test gets them back running and empty (see `stack`).
    """

    redis: RedisServer
    smtp: SmtpSink
    web: WebServer
    media: Path

    def env(self, **extra: str) -> dict[str, str]:
        return base_env(
            MEDIA_ROOT=str(self.media), REDIS_URL=self.redis.url, **smtp_env(self.smtp), **extra
        )


@pytest.fixture(scope="session")
def _servers(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[Stack]:
    media = tmp_path_factory.mktemp("fault-media")
    redis = RedisServer().start()
    smtp = SmtpSink().start()
    web: WebServer | None = None
    try:
        env = base_env(MEDIA_ROOT=str(media), REDIS_URL=redis.url, **smtp_env(smtp))
        web = WebServer(env, workers=2, threads=4).start()
        yield Stack(redis=redis, smtp=smtp, web=web, media=media)
    finally:
        if web is not None:
            web.stop()
        smtp.stop()
        redis.stop()


@pytest.fixture
def stack(_servers: Stack, settings: Any, transactional_db: None) -> Iterator[Stack]:
    """The shared servers, running and empty; this process mails through the same sink."""
    import redis as redis_client

    if not _servers.redis.alive():
        _servers.redis.start()
    if _servers.smtp.controller is None:
        _servers.smtp.start()
    redis_client.Redis.from_url(_servers.redis.url).flushall()
    with _servers.smtp.lock:
        _servers.smtp.messages.clear()
    settings.MEDIA_ROOT = _servers.media
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _servers.smtp.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 3
    yield _servers
    if not _servers.redis.alive():
        _servers.redis.start()


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Register every process a test starts here: all are stopped afterwards, even on failure."""
    started: list[Process] = []
    yield started
    for process in reversed(started):
        process.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def real_celery(settings: Any) -> Iterator[None]:
    """Tasks leave this process for real; the broker's database starts empty."""
    import redis

    from coaching.celery import app

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def smtp_settings(settings: Any, smtp: SmtpSink) -> SmtpSink:
    """This process sends through the sink too (for the beat sweeps the tests run)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 3
    return smtp


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def buy(base: str, product_path: str, email: str) -> dict[str, Any]:
    """A visitor buys through the simulated checkout: form, pay button, success page."""
    import requests

    browser = requests.Session()
    page = browser.get(base + product_path, timeout=20)
    assert page.status_code == 200, page.status_code
    started = browser.post(
        base + product_path,
        data={"email": email, "csrfmiddlewaretoken": csrf_token(page.text)},
        headers={"Referer": base + product_path},
        allow_redirects=False,
        timeout=20,
    )
    assert started.status_code == 302, (started.status_code, started.text[:500])
    checkout = base + started.headers["Location"]
    page = browser.get(checkout, timeout=20)
    paid = browser.post(
        checkout,
        data={"action": "pay", "csrfmiddlewaretoken": csrf_token(page.text)},
        headers={"Referer": checkout},
        allow_redirects=False,
        timeout=20,
    )
    assert paid.status_code == 302, (paid.status_code, paid.text[:500])
    success = browser.get(base + paid.headers["Location"], timeout=20)
    return {"status": success.status_code, "session": paid.headers["Location"].split("=")[-1]}


def booking_json(event_type: str, start: Any, email: str) -> dict[str, Any]:
    """What the booking page posts to /api/bookings/ for a free call."""
    return {
        "event_type": event_type,
        "start": start.isoformat(),
        "name": "Visitor",
        "email": email,
        "time_zone": "Europe/London",
        "answers": {"goal": "A new job"},
    }


def book(base: str, shop: Shop, start: Any, email: str) -> tuple[int, dict[str, Any]]:
    import requests

    response = requests.post(
        base + "/api/bookings/", json=booking_json(shop.event_type.slug, start, email), timeout=20
    )
    try:
        body = response.json()
    except ValueError:
        body = {"raw": response.text[:300]}
    return response.status_code, body


def starts(count: int, *, days_ahead: int = 3) -> list[Any]:
    """`count` distinct free half-hour starts on weekdays, 09:00-16:30 London."""
    from tests.bookings.factories import london, next_weekday

    found: list[Any] = []
    day = next_weekday(days_ahead=days_ahead, weekday=0)
    while len(found) < count:
        if day.weekday() < 5:
            for slot in range(16):
                found.append(london(day, 9 + slot // 2, 30 * (slot % 2)))
        day += timedelta(days=1)
    return found[:count]
