import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def test_healthz_names_database_cache_and_broker_and_says_ok(client):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert {body[name]["status"] for name in ("database", "cache", "broker")} == {"up"}


def test_healthz_answers_503_when_the_database_is_unreachable(client, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"]["status"] == "down"
    assert response.json()["status"] == "down"


def test_healthz_reports_a_degraded_cache_without_failing(client, settings):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "coaching.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2},
        }
    }
    caches._settings = None  # let Django rebuild its caches from the new settings
    try:
        response = client.get("/healthz")
    finally:
        caches._settings = None
    assert response.status_code == 200
    assert response.json()["cache"]["status"] == "down"
    assert response.json()["status"] == "degraded"


def test_a_lost_database_connection_answers_503_with_retry_after(client, monkeypatch):
    from guides import views

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(views, "_get_published_guide", lost)
    client.raise_request_exception = False  # as a real server does: the handler answers
    response = client.get("/guides/anything/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"briefly unavailable" in response.content
