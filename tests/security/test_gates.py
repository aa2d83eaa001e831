"""Security gates: CSP on every public page, MFA in front of the admin, sign-in throttling."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD, make_user, totp_now
from tests.security.conftest import World

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.IGNORECASE)


def public_pages(world: World) -> list[str]:
    return [
        "/",
        "/about/",
        "/coaching/",
        "/guides/",
        world.paid_guide.get_absolute_url(),
        "/search/?q=loop",
        "/store/",
        world.product.get_absolute_url(),
        "/book/",
        reverse("bookings:event-type", args=[world.event_type.slug]),
        reverse("bookings:manage", args=[world.booking_token]),
        "/newsletter/subscribe/",
        "/newsletter/archive/",
        reverse("newsletter:preferences", args=[world.subscriber_token]),
        reverse("newsletter:preferences", args=["bad-token"]),
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/login/code/",
        "/no-such-page/",
        "/api/docs/",
    ]


def test_every_public_page_has_a_strict_content_security_policy(world: World) -> None:
    visitor = Client()
    problems = []
    for url in public_pages(world):
        response = visitor.get(url)
        assert response.status_code < 500, url
        policy = response.get("Content-Security-Policy", "")
        if not policy:
            problems.append(f"{url}: no enforced Content-Security-Policy header")
            continue
        for word in ("'unsafe-inline'", "'unsafe-eval'", "*"):
            if word in policy.split():
                problems.append(f"{url}: the policy allows {word}")
        for directive in ("default-src", "script-src", "style-src", "frame-ancestors"):
            if directive not in policy:
                problems.append(f"{url}: the policy has no {directive}")
        if "text/html" in response.get("Content-Type", ""):
            html = response.content.decode(errors="replace")
            for attributes in INLINE_SCRIPT.findall(html):
                if "nonce=" not in attributes and "application/ld+json" not in attributes:
                    problems.append(f"{url}: an inline <script{attributes}> without a nonce")
            if STYLE_ATTRIBUTE.search(html):
                problems.append(f"{url}: a style attribute the policy would block")
    assert not problems, "\n".join(problems)


def test_signed_in_pages_carry_the_policy_too(world: World, candidate: Any) -> None:
    reader = Client()
    reader.force_login(candidate)
    for url in ("/library/", f"/library/orders/{world.order.number}/", "/accounts/email/"):
        response = reader.get(url)
        assert response.status_code == 200, url
        assert "'unsafe-inline'" not in response["Content-Security-Policy"], url


@pytest.mark.parametrize(
    "url", ["/admin/", "/admin/store/order/", "/admin/coaching/user/", "/admin/bookings/booking/"]
)
def test_staff_without_totp_are_sent_to_set_it_up_from_any_admin_page(url: str) -> None:
    staff = make_user("assistant@example.com", staff=True)
    browser = Client()
    browser.force_login(staff)
    response = browser.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_a_password_alone_does_not_open_the_admin_for_the_coach(coach: Any) -> None:
    browser = Client()
    response = browser.post("/accounts/login/", {"login": coach.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    for url in ("/admin/", "/admin/store/order/"):
        assert browser.get(url).status_code == 302
    assert browser.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    assert browser.get("/admin/").status_code == 302
    browser.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert browser.get("/admin/").status_code == 200


def test_failed_sign_ins_lock_the_site_login_for_that_address(candidate: Any) -> None:
    from axes.models import AccessAttempt

    browser = Client()
    statuses = [
        browser.post(
            "/accounts/login/", {"login": candidate.email, "password": f"wrong{n}"}
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 200, 429]
    response = browser.post("/accounts/login/", {"login": candidate.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert AccessAttempt.objects.filter(username=candidate.email).exists()


def test_the_admin_login_path_neither_signs_in_nor_bypasses_the_lockout(coach: Any) -> None:
    browser = Client()
    # The admin's own form would authenticate with `username`: it must not get the chance.
    for _ in range(8):
        response = browser.post(
            "/admin/login/", {"username": coach.email, "password": PASSWORD, "next": "/admin/"}
        )
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
        assert "_auth_user_id" not in browser.session
    # Lock the coach's address through the site login, then try the admin path again.
    for n in range(5):
        browser.post("/accounts/login/", {"login": coach.email, "password": f"wrong{n}"})
    for path in ("/admin/login/", "/accounts/login/"):
        response = browser.post(
            path, {"login": coach.email, "username": coach.email, "password": PASSWORD}
        )
        assert "_auth_user_id" not in browser.session, path
    assert browser.get("/admin/").status_code == 302


def test_a_lockout_is_per_address_and_does_not_need_redis(candidate: Any, settings: Any) -> None:
    # Axes keeps its counts in the database: an unreachable cache changes nothing.
    settings.CACHES = {
        "default": {
            "BACKEND": "coaching.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    browser = Client()
    for n in range(5):
        browser.post("/accounts/login/", {"login": candidate.email, "password": f"wrong{n}"})
    response = browser.post("/accounts/login/", {"login": candidate.email, "password": PASSWORD})
    assert response.status_code == 429
