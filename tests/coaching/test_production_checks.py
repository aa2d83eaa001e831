"""With PRODUCTION on, unsafe settings stop start-up; `check --deploy` names each one."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from coaching import checks

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
SAFE = {
    "SECRET_KEY": "k" * 20 + "a-long-random-production-key-0123456789",
    "STRIPE_SECRET_KEY": "sk_test_production_shaped",
    "STRIPE_WEBHOOK_SECRET": "whsec_from_the_stripe_dashboard",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "ANYMAIL": {"WEBHOOK_SECRET": ""},
    "DEBUG": False,
    "ALLOWED_HOSTS": ["coach.example.com"],
    "SITE_URL": "https://coach.example.com",
}


@pytest.fixture
def safe(settings: Any) -> Any:
    for name, value in SAFE.items():
        setattr(settings, name, value)
    settings.PRODUCTION = True
    return settings


def errors() -> dict[str, str]:
    return {str(error.id): error.msg for error in checks.production_errors()}


def test_safe_production_settings_pass_every_rule(safe: Any) -> None:
    assert errors() == {}
    checks.refuse_unsafe_production()


@pytest.mark.parametrize(
    "key, sentence",
    [
        ("", "SECRET_KEY is not set."),
        ("insecure-development-key-only", "SECRET_KEY is a known development value"),
        ("change-me-in-production", "SECRET_KEY is a known development value"),
        ("django-insecure-" + "x" * 50, "SECRET_KEY is a known development value"),
        ("short-but-random-0123456789", "SECRET_KEY is shorter than 50 characters"),
    ],
)
def test_a_missing_short_or_known_secret_key_is_refused(safe: Any, key: str, sentence: str) -> None:
    safe.SECRET_KEY = key
    assert errors()["coaching.E101"].startswith(sentence)


def test_a_missing_stripe_key_is_refused(safe: Any) -> None:
    safe.STRIPE_SECRET_KEY = ""
    assert errors() == {
        "coaching.E102": "STRIPE_SECRET_KEY is not set, so the store cannot take real payments."
    }


@pytest.mark.parametrize("secret", ["", "whsec_simulated_local_only"])
def test_a_missing_or_local_stripe_webhook_secret_is_refused(safe: Any, secret: str) -> None:
    safe.STRIPE_WEBHOOK_SECRET = secret
    assert list(errors()) == ["coaching.E103"]
    assert "STRIPE_WEBHOOK_SECRET" in errors()["coaching.E103"]


@pytest.mark.parametrize("backend", ["console", "locmem", "filebased"])
def test_an_email_backend_that_sends_nothing_is_refused(safe: Any, backend: str) -> None:
    safe.EMAIL_BACKEND = f"django.core.mail.backends.{backend}.EmailBackend"
    assert list(errors()) == ["coaching.E104"]
    assert errors()["coaching.E104"].startswith("EMAIL_BACKEND is ")


def test_an_esp_backend_without_its_webhook_secret_is_refused(safe: Any) -> None:
    safe.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
    assert list(errors()) == ["coaching.E105"]
    assert errors()["coaching.E105"].startswith("ANYMAIL_WEBHOOK_SECRET is not set")
    safe.ANYMAIL = {"WEBHOOK_SECRET": "user:long-shared-secret"}
    assert errors() == {}


def test_debug_on_is_refused(safe: Any) -> None:
    safe.DEBUG = True
    assert errors() == {"coaching.E106": "DEBUG is on, which shows settings and code to visitors."}


@pytest.mark.parametrize("host", ["*", ".example.com", "*.example.com"])
def test_a_wildcard_in_allowed_hosts_is_refused(safe: Any, host: str) -> None:
    safe.ALLOWED_HOSTS = ["coach.example.com", host]
    assert list(errors()) == ["coaching.E107"]
    assert errors()["coaching.E107"].startswith("ALLOWED_HOSTS has a wildcard")


def test_a_site_url_that_is_not_https_is_refused(safe: Any) -> None:
    safe.SITE_URL = "http://coach.example.com"
    assert errors() == {
        "coaching.E108": "SITE_URL must start with https://, not 'http://coach.example.com'."
    }


def test_production_refuses_to_start_naming_every_unsafe_variable(safe: Any) -> None:
    safe.DEBUG = True
    safe.STRIPE_SECRET_KEY = ""
    with pytest.raises(ImproperlyConfigured) as raised:
        checks.refuse_unsafe_production()
    assert "coaching.E102: STRIPE_SECRET_KEY is not set" in str(raised.value)
    assert "coaching.E106: DEBUG is on" in str(raised.value)


def test_outside_production_the_site_starts_with_development_settings(settings: Any) -> None:
    settings.PRODUCTION = False
    settings.STRIPE_SECRET_KEY = ""
    checks.refuse_unsafe_production()


def test_check_deploy_fails_on_an_unsafe_setting(safe: Any) -> None:
    safe.SITE_URL = "http://coach.example.com"
    with pytest.raises(SystemCheckError, match=r"coaching\.E108"):
        call_command("check", deploy=True)


def production_process(command: list[str], **overrides: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "TESTING"}
    }
    env.update(PRODUCTION="true", DJANGO_SETTINGS_MODULE="coaching.settings", **overrides)
    return subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_production_process_without_secrets_does_not_start() -> None:
    result = production_process(["-c", "import django; django.setup()"])
    assert result.returncode != 0
    assert "coaching.E101: SECRET_KEY is not set." in result.stderr
    assert "coaching.E103: STRIPE_WEBHOOK_SECRET is not set." in result.stderr


def test_check_deploy_in_a_production_process_lists_every_rule_that_fails() -> None:
    result = production_process(["manage.py", "check", "--deploy"])
    assert result.returncode == 1
    for check_id in ("E101", "E102", "E103", "E104", "E108"):
        assert f"(coaching.{check_id})" in result.stderr
