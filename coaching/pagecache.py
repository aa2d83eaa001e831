"""A shared cache for pages as anonymous visitors see them.

Only anonymous GETs that answer 200 without setting a cookie are stored, so a
page holding a CSRF token or a signed-in reader's view is never shared. Pages
meant for caching post their forms without CSRF tokens (the newsletter signup)
or load them separately. The stored copy is the body and content type only: the
response is rebuilt per request, so per-request headers (CSP) stay fresh.

`bump_version()` after content changes makes every stored page stale at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

VERSION_KEY = "pagecache:version"
HEADER = "X-Page-Cache"


def current_version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = 1
        cache.add(VERSION_KEY, version, timeout=None)
    return int(version)


def bump_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def _key(request: HttpRequest, version: int) -> str:
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()[:32]
    return f"pagecache:{version}:{digest}"


def _cacheable_request(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return request.method == "GET" and not (user is not None and user.is_authenticated)


def cache_for_visitors(timeout: int = 300) -> Callable[[Callable[..., HttpResponse]], Any]:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _cacheable_request(request):
                response = view(request, *args, **kwargs)
                response.headers.setdefault("Cache-Control", "private, no-store")
                return response
            version = current_version()
            key = _key(request, version)
            stored = cache.get(key)
            if stored is not None:
                content, content_type = stored
                response = HttpResponse(content, content_type=content_type)
                response[HEADER] = "hit"
                return response
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.cookies and not response.streaming:
                cache.set(key, (response.content, response["Content-Type"]), timeout)
                response[HEADER] = "miss"
            return response

        return wrapped

    return decorator
