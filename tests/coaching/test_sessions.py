"""Who is signed in, read through Redis (coaching/sessions.py): as fast as a cache, as
strict as the database about sessions that must end."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from coaching import sessions
from coaching.models import User

BACKEND = "allauth.account.auth_backends.AuthenticationBackend"

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)  # the backend allauth signs people in with
    return client


def is_signed_in(client: Client) -> bool:
    return bool(client.get("/library/").wsgi_request.user.is_authenticated)


def test_a_signed_in_reader_is_known_without_a_query_once_their_account_is_cached(candidate):
    client = signed_in(candidate)
    client.get("/guides/")  # reads and caches the session, the account and the page

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/guides/")

    assert response.wsgi_request.user.is_authenticated
    assert response.wsgi_request.user.pk == candidate.pk
    assert queries.captured_queries == []


def test_the_cached_account_never_holds_the_password_hash_and_loads_it_when_asked(candidate):
    client = signed_in(candidate)
    is_signed_in(client)

    snapshot = cache.get(sessions._account_key(candidate.pk))
    assert snapshot is not None
    assert "password" not in snapshot
    assert candidate.password not in repr(snapshot)
    user = client.get("/guides/").wsgi_request.user
    assert user.has_usable_password()  # read from the database on demand


def test_a_password_changed_elsewhere_ends_a_session_whose_account_was_cached(candidate):
    client = signed_in(candidate)
    assert is_signed_in(client)

    account = User.objects.get(pk=candidate.pk)
    account.set_password("a different long passphrase")
    account.save()

    assert not is_signed_in(client)


def test_an_erased_account_ends_its_sessions_at_once(candidate):
    client = signed_in(candidate)
    assert is_signed_in(client)

    User.objects.filter(pk=candidate.pk).delete()

    assert not is_signed_in(client)


def test_a_deactivated_account_ends_its_sessions_at_once(candidate):
    client = signed_in(candidate)
    assert is_signed_in(client)

    candidate.is_active = False
    candidate.save()

    assert not is_signed_in(client)


def test_signing_out_ends_the_session_even_though_redis_held_a_copy(candidate):
    client = signed_in(candidate)
    assert is_signed_in(client)
    cookie = client.cookies["sessionid"].value

    client.post("/accounts/logout/")

    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert not is_signed_in(replay)


def test_a_stale_snapshot_that_no_longer_matches_the_session_goes_to_the_database(candidate):
    client = signed_in(candidate)
    assert is_signed_in(client)
    # As if Redis had missed the drop while unreachable: the snapshot still holds
    # the old session hash, the database the new password.
    snapshot = cache.get(sessions._account_key(candidate.pk))
    User.objects.filter(pk=candidate.pk).update(password="!changed-behind-our-back")
    cache.set(sessions._account_key(candidate.pk), {**snapshot, "session_hash": "stale"})

    assert not is_signed_in(client)


def test_cached_copies_of_sessions_and_accounts_are_bounded_in_time(candidate):
    client = signed_in(candidate)
    assert is_signed_in(client)

    key = f"{sessions.SessionStore.cache_key_prefix}{client.cookies['sessionid'].value}"
    raw = cache._cache.get_client()
    session_ttl = raw.ttl(cache.make_and_validate_key(key))
    account_ttl = raw.ttl(cache.make_and_validate_key(sessions._account_key(candidate.pk)))

    assert 0 < session_ttl <= sessions.SESSION_CACHE_SECONDS
    assert 0 < account_ttl <= sessions.ACCOUNT_CACHE_SECONDS
