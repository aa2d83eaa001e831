"""Signed tokens in newsletter links: no login, no guessable ids.

Each purpose has its own salt, so a click token cannot be replayed as an
unsubscribe token. `.` separates value and signature because URL-safe base64
never contains it.
"""

from __future__ import annotations

from functools import cache

from django.core import signing

CONFIRM_MAX_AGE = 60 * 60 * 24 * 30


# Built on first use, not at import: a signer reads SECRET_KEY when made, and
# importing this module (URL checks do) must not fail before coaching/checks.py
# can name a missing key.
@cache
def _signer(salt: str) -> signing.Signer:
    return signing.Signer(salt=f"newsletter.{salt}", sep=".")


@cache
def _confirm() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt="newsletter.confirm", sep=".")


def subscriber_token(subscriber_id: int) -> str:
    """For the preference page and unsubscribe links; does not expire."""
    return _signer("subscriber").sign(str(subscriber_id))


def read_subscriber_token(token: str) -> int | None:
    return _read(_signer("subscriber"), token)


def confirm_token(subscriber_id: int) -> str:
    return _confirm().sign(str(subscriber_id))


def read_confirm_token(token: str) -> int | None:
    try:
        return int(_confirm().unsign(token, max_age=CONFIRM_MAX_AGE))
    except (signing.BadSignature, ValueError):
        return None


def click_token(delivery_id: int, link_id: int) -> str:
    return _signer("click").sign(f"{delivery_id}-{link_id}")


def read_click_token(token: str) -> tuple[int, int] | None:
    try:
        delivery_id, link_id = _signer("click").unsign(token).split("-")
        return int(delivery_id), int(link_id)
    except (signing.BadSignature, ValueError):
        return None


def open_token(delivery_id: int) -> str:
    return _signer("open").sign(str(delivery_id))


def read_open_token(token: str) -> int | None:
    return _read(_signer("open"), token)


def _read(signer: signing.Signer, token: str) -> int | None:
    try:
        return int(signer.unsign(token))
    except (signing.BadSignature, ValueError):
        return None
