"""The fixed cast: `coach`, `candidate`, `stranger`; and a real browser for page tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM
# would otherwise refuse to run next to it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _eager_celery(settings: Any) -> Iterator[None]:
    """Tasks run inline unless a test starts a real worker (see `celery_worker`)."""
    from coaching.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    from django.core.cache import cache

    from coaching import pagecache

    cache.clear()
    pagecache._memo.update(version=0, read_at=0.0)
    pagecache.local_pages.clear()
    pagecache.local_fragments.clear()
    yield


@pytest.fixture
def redis_down(settings: Any) -> None:
    """The cache's Redis unreachable, as in an outage: nothing listens on its port."""
    settings.CACHES = {
        "default": {
            "BACKEND": "coaching.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    from django.core.cache import cache

    cache.set("probe", "written")
    assert cache.get("probe") is None, "the cache still answers"


def make_user(email: str, *, staff: bool = False, name: str = "") -> Any:
    from allauth.account.models import EmailAddress

    from coaching.models import User

    if staff:
        user = User.objects.create_superuser(email, PASSWORD, name=name)
    else:
        user = User.objects.create_user(email, PASSWORD, name=name)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def coach(db: None) -> Any:
    """The coach: staff, with TOTP set up as the admin requires."""
    from allauth.mfa.totp.internal.auth import TOTP

    user = make_user("coach@example.com", staff=True, name="Alex Morgan")
    TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def candidate(db: None) -> Any:
    return make_user("candidate@example.com", name="Casey Candidate")


@pytest.fixture
def stranger(db: None) -> Any:
    return make_user("stranger@example.com", name="Sam Stranger")


def totp_now(secret: str = TOTP_SECRET) -> str:
    from coaching.launcher import totp_code

    return totp_code(secret)


@pytest.fixture
def coach_client(client: Any, coach: Any) -> Any:
    """A test client signed in as the coach, past the MFA step."""
    client.force_login(coach)
    return client


# --- Browser ------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on(
        "console",
        lambda message: (
            errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    tab.js_errors = errors
    yield tab
    context.close()


def screenshot(tab: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under test-artifacts/screenshots/ for people to look at."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def demo_data(db: None) -> None:
    from django.core.management import call_command

    call_command("load_demo", quiet=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
