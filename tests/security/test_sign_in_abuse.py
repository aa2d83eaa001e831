"""Sign-in abuse: a stranger's password on someone else's address, guessing spread
over many IPs, weak passwords, and sign-in while Redis is down."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from coaching.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

VICTIM = "owner@example.com"
STRANGERS_PASSWORD = "a stranger's own passphrase"


def sign_in_by_code(client: Client, email: str) -> Any:
    client.post("/accounts/login/code/", {"email": email})
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.MULTILINE)[1]
    return client.post("/accounts/login/code/confirm/", {"code": code})


def password_sign_in(email: str, password: str, ip: str = "203.0.113.9") -> Any:
    return Client(REMOTE_ADDR=ip).post("/accounts/login/", {"login": email, "password": password})


def test_a_strangers_password_on_an_address_stops_working_once_its_owner_signs_in_by_code():
    stranger = Client()
    stranger.post(
        "/accounts/signup/",
        {"email": VICTIM, "password1": STRANGERS_PASSWORD, "password2": STRANGERS_PASSWORD},
    )
    account = User.objects.get(email=VICTIM)
    assert account.check_password(STRANGERS_PASSWORD)
    assert not EmailAddress.objects.get(user=account).verified
    # A session the stranger holds on the account somehow (say, an old one).
    stranger.force_login(account)
    assert stranger.get("/library/").status_code == 200

    owner = Client()
    assert sign_in_by_code(owner, VICTIM).status_code == 302
    assert EmailAddress.objects.get(user=account).verified

    account.refresh_from_db()
    assert not account.has_usable_password()
    assert password_sign_in(VICTIM, STRANGERS_PASSWORD).status_code == 200  # the form again
    assert stranger.get("/library/").status_code == 302  # sent to sign in
    assert owner.get("/library/").status_code == 200


def test_signing_in_by_code_to_an_already_verified_account_keeps_its_password(candidate):
    assert sign_in_by_code(Client(), candidate.email).status_code == 302
    candidate.refresh_from_db()
    assert candidate.check_password(PASSWORD)


def test_twenty_failed_sign_ins_spread_over_many_ips_lock_the_account_for_every_ip(candidate):
    for attempt in range(1, 21):
        ip = f"198.51.100.{attempt // 4}"  # at most four per IP: under the limit per address and IP
        response = password_sign_in(candidate.email, "wrong guess", ip)
        # The twentieth failure is the one that locks.
        assert response.status_code == (429 if attempt == 20 else 200)
    response = password_sign_in(candidate.email, PASSWORD, "192.0.2.77")
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content


def test_nineteen_failed_sign_ins_spread_over_many_ips_leave_the_account_open(candidate):
    for attempt in range(19):
        password_sign_in(candidate.email, "wrong guess", f"198.51.100.{attempt // 4}")
    assert password_sign_in(candidate.email, PASSWORD, "192.0.2.77").status_code == 302


def test_the_account_lock_leaves_sign_in_by_code_open_to_the_owner(candidate):
    for attempt in range(20):
        password_sign_in(candidate.email, "wrong guess", f"198.51.100.{attempt // 4}")
    assert sign_in_by_code(Client(), candidate.email).status_code == 302


@pytest.mark.parametrize("password", ["short pass", "password1234", "123456789012"])
def test_short_or_common_passwords_are_refused_at_sign_up(client, password):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": password, "password2": password},
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="new@example.com").exists()


def test_a_long_uncommon_password_is_accepted_at_sign_up(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.filter(email="new@example.com").exists()


def test_with_redis_down_a_buyer_still_signs_in_by_code_and_with_a_password(redis_down, candidate):
    assert sign_in_by_code(Client(), candidate.email).status_code == 302
    assert password_sign_in(candidate.email, PASSWORD).status_code == 302


def test_with_redis_down_sign_in_codes_for_one_address_are_still_limited(redis_down, candidate):
    answers = [
        Client(REMOTE_ADDR=f"198.51.100.{n}")
        .post("/accounts/login/code/", {"email": candidate.email})
        .status_code
        for n in range(6)
    ]
    assert answers == [302] * 5 + [429]


def test_sign_in_codes_from_one_ip_are_limited_across_addresses(db):
    client = Client(REMOTE_ADDR="198.51.100.1")
    answers = [
        client.post("/accounts/login/code/", {"email": f"person{n}@example.com"}).status_code
        for n in range(31)
    ]
    assert answers[-1] == 429
    assert set(answers[:30]) == {302}
