"""Rate limits for what a stranger can trigger: one function, `hit`, for every form,
API endpoint and beacon, and one way to answer when over (`too_many`).

Counters are fixed windows in PostgreSQL (`ThrottleCounter`), updated by one
atomic upsert: a limit holds under concurrency and when Redis is down, which a
cache-based counter cannot promise. Keys are hashed so the table keeps no
address or IP. Old windows are deleted by beat (`purge_throttle_counters`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `window` seconds for one key in `scope`."""

    scope: str
    count: int
    window: int


def client_ip(request: HttpRequest) -> str:
    """The visitor's address, trusting X-Forwarded-For only for the configured
    number of proxies in front of the site (the same setting django-axes reads)."""
    proxies = getattr(settings, "AXES_IPWARE_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def _counter_key(scope: str, key: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{key.strip().lower()}".encode()).hexdigest()
    return f"{scope}:{digest[:40]}"


def hit(limit: Limit, key: str) -> int | None:
    """Count one attempt for `key` (an IP, an address, an account id). Returns None
    while within the limit, else the seconds until the window ends (Retry-After)."""
    now = timezone.now()
    window_floor = now - timedelta(seconds=limit.window)
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if own_transaction:
            # A counter need not wait for the disk: a crash could lose the last fraction
            # of a second of attempts, which only loosens a limit for that moment. Only
            # in a transaction of its own, so a booking's commit is never made lax.
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(
            """
            INSERT INTO coaching_throttlecounter (key, window_start, count)
            VALUES (%s, %s, 1)
            ON CONFLICT (key) DO UPDATE SET
                count = CASE WHEN coaching_throttlecounter.window_start <= %s
                             THEN 1 ELSE coaching_throttlecounter.count + 1 END,
                window_start = CASE WHEN coaching_throttlecounter.window_start <= %s
                                    THEN EXCLUDED.window_start
                                    ELSE coaching_throttlecounter.window_start END
            RETURNING count, window_start
            """,
            [_counter_key(limit.scope, key), now, window_floor, window_floor],
        )
        count, started = cursor.fetchone()
    if count <= limit.count:
        return None
    remaining = (started + timedelta(seconds=limit.window) - now).total_seconds()
    return max(1, math.ceil(remaining))


def hit_all(checks: list[tuple[Limit, str | None]]) -> int | None:
    """Count one attempt against several limits (say per IP and per address); returns
    the longest wait among those exceeded. Keys that are None or empty are skipped."""
    waits = [wait for limit, key in checks if key and (wait := hit(limit, key)) is not None]
    return max(waits) if waits else None


def check(request: HttpRequest, action: str, **keys: str | None) -> int | None:
    """Count one attempt at `action` (a name in settings.THROTTLE_LIMITS) against each
    of its limits: per client IP unless `ip=None` is passed, and per any other key
    given (`email=...`, `account=...`). None while allowed, else the Retry-After."""
    values: dict[str, str | None] = {"ip": client_ip(request), **keys}
    limits = settings.THROTTLE_LIMITS[action]
    return hit_all(
        [
            (Limit(f"{action}:{kind}", count, window), values.get(kind))
            for kind, (count, window) in limits.items()
        ]
    )


def too_many(
    request: HttpRequest,
    retry_after: int,
    *,
    message: str = "Too many attempts from here. Please wait a little and try again.",
    template: str = "rate_limited.html",
) -> HttpResponse:
    """The page answer when over a limit: 429, Retry-After, and a clear sentence."""
    minutes = max(1, math.ceil(retry_after / 60))
    response = render(request, template, {"message": message, "retry_minutes": minutes}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def too_many_json(retry_after: int, message: str = "Too many requests.") -> JsonResponse:
    """The API answer when over a limit: 429 with a JSON body and Retry-After."""
    # The API's error shape (coaching/api.py), plus when to try again.
    response = JsonResponse({"error": message, "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def purge_expired(older_than: timedelta = timedelta(days=2)) -> int:
    """Delete counters whose window ended long ago (beat runs this daily)."""
    from coaching.models import ThrottleCounter

    deleted, _ = ThrottleCounter.objects.filter(
        window_start__lt=timezone.now() - older_than
    ).delete()
    return deleted
