"""The ESP's bounce and complaint webhooks: only the configured provider's route
exists, and only a post carrying its secret suppresses anyone."""

from __future__ import annotations

import base64
import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import clear_url_caches

from newsletter.models import Suppression

pytestmark = pytest.mark.django_db

SECRET = "esp-user:esp-long-random-password"
BOUNCE = {
    "RecordType": "Bounce",
    "Type": "HardBounce",
    "TypeCode": 1,
    "ID": 42,
    "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    "Email": "reader@example.com",
    "BouncedAt": "2026-12-01T10:00:00Z",
    "Description": "The server was unable to deliver your message",
    "Details": "smtp;550 5.1.1 no such user",
}
ROUTE = "/newsletter/esp/postmark/tracking/"


def remount_urls() -> None:
    import coaching.urls
    import newsletter.urls

    importlib.reload(newsletter.urls)
    importlib.reload(coaching.urls)
    clear_url_caches()


@pytest.fixture
def esp(settings: Any) -> Iterator[Any]:
    """Postmark configured, with a webhook secret; the URLs are built again from settings."""
    settings.NEWSLETTER_ESP = "postmark"
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    remount_urls()
    yield settings
    settings.NEWSLETTER_ESP = ""
    remount_urls()


def post_bounce(path: str = ROUTE, auth: str | None = None) -> Any:
    headers = {}
    if auth is not None:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return Client().post(path, json.dumps(BOUNCE), content_type="application/json", **headers)


def suppressed() -> bool:
    return Suppression.objects.filter(email="reader@example.com").exists()


def test_a_bounce_posted_with_the_secret_suppresses_the_address(esp):
    assert post_bounce(auth=SECRET).status_code == 200
    assert suppressed()


def test_a_bounce_posted_without_the_secret_is_refused_and_suppresses_nobody(esp):
    assert post_bounce().status_code == 403
    assert post_bounce(auth="esp-user:a-guess").status_code == 403
    assert not suppressed()


def test_with_no_secret_configured_the_webhook_refuses_every_post(esp):
    esp.ANYMAIL = {**esp.ANYMAIL, "WEBHOOK_SECRET": ""}
    assert post_bounce().status_code == 403
    assert post_bounce(auth=SECRET).status_code == 403
    assert not suppressed()


def test_other_providers_routes_are_not_mounted(esp):
    for path in ["/newsletter/esp/sendgrid/tracking/", "/newsletter/esp/mailgun/tracking/"]:
        assert post_bounce(path, auth=SECRET).status_code == 404
    assert not suppressed()


def test_with_no_provider_configured_no_webhook_route_exists(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}
    assert post_bounce(auth=SECRET).status_code == 404
    assert not suppressed()
