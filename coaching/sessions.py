"""Who is signed in, answered without PostgreSQL on most requests.

A signed-in page used to cost two queries before its view ran: the session row and
the account. Both are now read through Redis:

- `SessionStore` is Django's cached sessions (the database stays the record; Redis
  holds a copy), with the copy kept at most `SESSION_CACHE_SECONDS`: logging out
  deletes both, and should Redis miss that delete while unreachable, a stale copy
  outlives it by that long at most. New keys are checked against the database only,
  so creating a session works with Redis down.
- `AuthenticationMiddleware` reads the account from a cached snapshot: every field
  but the password hash (which never goes to Redis; the instance loads it from the
  database if anything asks), plus the session hash the password gives. The snapshot
  answers only when it is for an active account and the session's hash matches it
  exactly; anything else (no snapshot, a changed password, an old secret key, an
  unknown backend) goes through Django's own `get_user`, which reads the database
  and ends sessions that no longer verify. Saving or deleting an account drops its
  snapshot at once (signals below), and a snapshot lives `ACCOUNT_CACHE_SECONDS` at
  most, which bounds what a missed drop could leave behind.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthMiddleware
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from coaching.models import User

SESSION_CACHE_SECONDS = 600
ACCOUNT_CACHE_SECONDS = 300
_FIELDS = tuple(f.attname for f in User._meta.concrete_fields if f.attname != "password")


@functools.cache
def _account_prefix() -> str:
    # A release that changes the account's fields, or a new secret key (which
    # changes every session hash), never reads a snapshot written before it.
    shape = ",".join(_FIELDS) + settings.SECRET_KEY
    return f"account:{hashlib.sha256(shape.encode()).hexdigest()[:16]}:"


class SessionStore(CachedDBStore):
    # django-stubs declares neither the cache nor the session-row helpers these
    # overrides use, hence the `Any` views of self below.
    def load(self) -> dict[str, Any]:
        store: Any = self
        data = store._cache.get(self.cache_key)
        if data is not None:
            return data
        row = store._get_session_from_db()
        if row is None:
            return {}
        data = self.decode(row.session_data)
        store._cache.set(self.cache_key, data, self._cached_for(row.expire_date))
        return data

    def save(self, must_create: bool = False) -> None:
        store: Any = self
        DBStore.save(self, must_create)
        store._cache.set(self.cache_key, store._session, self._cached_for())

    def exists(self, session_key: str) -> bool:
        return DBStore.exists(self, session_key)

    def _cached_for(self, expiry: Any = None) -> int:
        age = self.get_expiry_age(expiry=expiry) if expiry else self.get_expiry_age()
        return min(age, SESSION_CACHE_SECONDS)


def _account_key(pk: Any) -> str:
    return f"{_account_prefix()}{pk}"


def _remember_account(user: User) -> None:
    snapshot = {name: getattr(user, name) for name in _FIELDS}
    snapshot["session_hash"] = user.get_session_auth_hash()
    cache.set(_account_key(user.pk), snapshot, ACCOUNT_CACHE_SECONDS)


def _from_snapshot(snapshot: dict[str, Any]) -> User:
    # The password stays deferred: reading it (a password change form, a
    # "has a password?" check) loads it from the database.
    return User.from_db("default", list(_FIELDS), [snapshot[name] for name in _FIELDS])


@functools.cache
def _model_backend(path: str) -> bool:
    return path in settings.AUTHENTICATION_BACKENDS and issubclass(
        auth.load_backend(path).__class__, ModelBackend
    )


def signed_in_user(request: HttpRequest) -> Any:
    """The request's account, as `django.contrib.auth.get_user` would answer."""
    session = request.session
    pk = session.get(SESSION_KEY)
    backend = session.get(BACKEND_SESSION_KEY)
    session_hash = session.get(HASH_SESSION_KEY)
    if pk is None or not backend or not session_hash:
        return auth.get_user(request)
    snapshot = cache.get(_account_key(pk))
    if (
        snapshot is not None
        and snapshot["is_active"]
        and _model_backend(backend)
        and constant_time_compare(session_hash, snapshot["session_hash"])
    ):
        return _from_snapshot(snapshot)
    user = auth.get_user(request)
    if user.is_authenticated and user.is_active:
        _remember_account(user)
    return user


class AuthenticationMiddleware(DjangoAuthMiddleware):
    """Django's, with the account from `signed_in_user`."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: _cached_user(request))  # type: ignore[assignment]


def _cached_user(request: HttpRequest) -> Any:
    if not hasattr(request, "_cached_user"):
        request._cached_user = signed_in_user(request)  # type: ignore[attr-defined]
    return request._cached_user  # type: ignore[attr-defined]


# Connected on import by coaching.apps, so web processes, workers and management
# commands all drop a changed account's snapshot.
@receiver(post_save, sender=User, dispatch_uid="sessions-forget-saved-account")
@receiver(post_delete, sender=User, dispatch_uid="sessions-forget-deleted-account")
def forget_account(sender: type[User], instance: User, **kwargs: Any) -> None:
    cache.delete(_account_key(instance.pk))
