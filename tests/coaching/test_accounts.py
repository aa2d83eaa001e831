import re

import pytest
from django.core import mail

from coaching.models import User
from tests.conftest import PASSWORD, totp_now

pytestmark = pytest.mark.django_db


def test_signing_up_with_an_email_sends_a_verification_link_that_a_get_does_not_confirm(client):
    from allauth.account.models import EmailAddress

    response = client.post(
        "/accounts/signup/",
        {"email": "New.Person@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email__iexact="new.person@example.com")
    link = re.search(r"http://\S+/accounts/confirm-email/\S+/", mail.outbox[-1].body)[0]
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]

    client.get(path)  # what a link scanner does
    assert not EmailAddress.objects.get(user=user).verified

    client.post(path)
    assert EmailAddress.objects.get(user=user).verified


def test_a_buyer_signs_in_with_a_code_sent_by_email(client, candidate):
    client.post("/accounts/login/code/", {"email": candidate.email})
    code = re.search(r"^([A-Z0-9]{4}-[A-Z0-9]{4})$", mail.outbox[-1].body, re.MULTILINE)[1]
    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 302
    assert client.get("/").context["user"] == candidate


def test_staff_without_an_authenticator_are_sent_to_set_one_up_before_the_admin(client, db):
    from tests.conftest import make_user

    staff = make_user("assistant@example.com", staff=True)
    client.force_login(staff)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/totp/activate/")


def test_the_coach_signs_in_with_password_then_a_totp_code_and_reaches_the_admin(client, coach):
    response = client.post("/accounts/login/", {"login": coach.email, "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/admin/").status_code == 302  # not signed in yet

    response = client.post("/accounts/2fa/authenticate/", {"code": totp_now()})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_page_hands_over_to_the_site_login(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_five_failed_sign_ins_lock_the_account_even_against_the_right_password(client, candidate):
    for attempt in range(1, 6):
        response = client.post("/accounts/login/", {"login": candidate.email, "password": "wrong"})
        # The fifth failure is the one that locks.
        assert response.status_code == (429 if attempt == 5 else 200)
    response = client.post("/accounts/login/", {"login": candidate.email, "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_a_lockout_on_one_address_does_not_lock_out_another(client, candidate, stranger):
    for _ in range(5):
        client.post("/accounts/login/", {"login": candidate.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"login": stranger.email, "password": PASSWORD})
    assert response.status_code == 302
