"""Every cache of what the site shows, in one place. Three tiers, one rule for staleness:
everything is keyed on the content version, and `bump_version()` after any content
change (guides.apps, coaching.apps) makes all of it stale at once.

1. Shared pages (`cache_for_visitors`, `FetchFromPageCacheMiddleware`): whole pages
   as anonymous visitors see them, served before sessions and auth even run. Only
   anonymous GETs that answer 200 without setting a cookie or showing a flash
   message are stored, so a page holding a CSRF token, a signed-in reader's view or
   someone's "your refund was requested" is never shared. Pages meant for caching
   post their forms without CSRF tokens (the newsletter signup) or load them
   separately. The stored copy is the body, content type and the view's own CSP
   configuration if it set one: the response is rebuilt per request, so per-request
   headers (the CSP nonce) stay fresh. A page is stored under its path and only the
   query parameters its view reads (`params=...`): `?utm_source=x` or a random
   string shares the page's one entry instead of filling Redis.
2. In-process copies (`LocalPages`): each process keeps its hottest shared pages
   (and tier 3's fragments) in memory for a few seconds, so a hit usually costs no
   Redis round trip at all.
3. Fragments (`remember`): parts of pages that are the same for every reader with
   the same access, for pages that cannot be shared whole (a signed-in reader's
   guide page has their name and CSRF token): the guide row, its related guides,
   the rendered article per access level. A fragment never holds anything of the
   reader; who may see which fragment is decided per request (guides.access).
4. Reader pages (`cache_for_visitors(readers=...)`): whole pages as signed-in readers
   see them, one per access class the view names (a guide page: may read it all, or
   only its preview). The reader's own parts are punched out: the page is rendered
   with a placeholder for the CSRF token, filled with this reader's token on every
   request, and only views whose pages show nothing else of the reader opt in. Staff,
   a guest's paid session and any flash message never share one. The HTTP answer
   stays `private, no-store`: no cache outside this server keeps it.
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import Resolver404, resolve

VERSION_KEY = "pagecache:version"
HEADER = "X-Page-Cache"


# The version is read from Redis at most once a second per process: a hit then
# costs one cache round trip, and a change reaches every process within a second.
VERSION_TTL = 1.0
_memo: dict[str, float] = {"version": 0, "read_at": 0.0}


def current_version() -> int:
    now = time.monotonic()
    if _memo["version"] and now - _memo["read_at"] < VERSION_TTL:
        return int(_memo["version"])
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(VERSION_KEY) or _fresh_version()
    _memo.update(version=int(version), read_at=now)
    return int(version)


def _fresh_version() -> int:
    # From the clock, so a version made after Redis lost its data never repeats
    # one that pages were stored under before.
    return int(time.time() * 1000)


def remember[T](kind: str, key: str, compute: Callable[[], T], timeout: int = 3600) -> T:
    """Tier 3: `compute()`'s value for `key`, kept until the content version changes.

    Also kept in this process for a few seconds (tier 2's rule), as pickled bytes
    so every caller gets its own copy: a signed-in guide page reads four fragments,
    and their Redis round trips were a fifth of its time.
    """
    full_key = f"pagecache:{kind}:{current_version()}:{key}"
    local = local_fragments.get(full_key)
    if local is not None:
        return pickle.loads(local[0])  # noqa: S301 - our own bytes, written below
    value: T | None = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, timeout)
    local_fragments.put(full_key, (pickle.dumps(value, pickle.HIGHEST_PROTOCOL), kind))
    return value


def bump_version() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, _fresh_version(), timeout=None)
    _memo.update(version=0, read_at=0.0)
    local_pages.clear()
    local_fragments.clear()


# Body, content type and the view's own Content-Security-Policy (None: the site's).
Stored = tuple[bytes, str] | tuple[bytes, str, dict[str, Any] | None]


class LocalPages:
    """The pages this process served last, kept for `ttl` seconds in front of Redis.

    A long guide is 100 KB: fetching and unpickling it from Redis was half the
    cost of a page-cache hit. Keys carry the content version (re-read once a
    second), so a content change reaches every process as before; a local copy
    only adds up to `ttl` seconds of age to an entry's own expiry. Bounded by
    total size, least recently used first out. The lock is for threaded servers.
    """

    def __init__(self, ttl: float, max_bytes: int = 16 * 2**20) -> None:
        self.ttl, self.max_bytes = ttl, max_bytes
        self._pages: OrderedDict[str, tuple[float, Stored]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Stored | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return entry[1]

    def put(self, key: str, stored: Stored) -> None:
        size = len(stored[0])
        if self.ttl <= 0 or size > self.max_bytes // 4:  # one huge page must not flush the rest
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = (time.monotonic() + self.ttl, stored)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def _drop(self, key: str) -> None:
        _expires, stored = self._pages.pop(key)
        self._bytes -= len(stored[0])


local_pages = LocalPages(ttl=settings.PAGE_CACHE_LOCAL_SECONDS)
local_fragments = LocalPages(ttl=settings.PAGE_CACHE_LOCAL_SECONDS)  # for `remember`


def _stored_page(key: str) -> Stored | None:
    stored = local_pages.get(key)
    if stored is None:
        stored = cache.get(key)
        if stored is not None:
            local_pages.put(key, stored)
    return stored


def _hit(stored: Stored) -> HttpResponse:
    content, content_type, *policy = stored
    response = HttpResponse(content, content_type=content_type)
    if policy and policy[0]:
        # A page with its own policy (a video guide's frames) keeps it when served stored.
        response._csp_config = policy[0]  # type: ignore[attr-defined]
    response[HEADER] = "hit"
    return response


def _store_page(key: str, stored: Stored, timeout: int) -> None:
    cache.set(key, stored, timeout)
    local_pages.put(key, stored)


def _key(request: HttpRequest, version: int, params: tuple[str, ...]) -> str:
    """The path and the values of `params`, in their order; empty values are left out
    (every view reads a missing and an empty parameter alike)."""
    kept = [(name, value) for name in params for value in request.GET.getlist(name) if value]
    address = f"{request.path}?{urlencode(kept)}"
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    return f"pagecache:{version}:{digest}"


PARAMS_ATTRIBUTE = "page_cache_params"


def _params_of_view_at(path: str) -> tuple[str, ...] | None:
    """The parameters the view at `path` reads, or None when it keeps no pages."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    params: tuple[str, ...] | None = getattr(match.func, PARAMS_ATTRIBUTE, None)
    return params


def _anonymous_get(request: HttpRequest) -> bool:
    """A GET from a visitor with no session and no flash message waiting: safe to share."""
    cookies = request.COOKIES
    return (
        request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in cookies
        and CookieStorage.cookie_name not in cookies
    )


class FetchFromPageCacheMiddleware:
    """Serve a stored page before sessions, auth and the view run.

    Only for anonymous GETs (`_anonymous_get`) to views that keep pages. It sits
    after the security, CSP and frame-options middleware so a hit gets their
    headers too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _anonymous_get(request):
            params = _params_of_view_at(request.path_info)
            if params is not None:
                stored = _stored_page(_key(request, current_version(), params))
                if stored is not None:
                    return _hit(stored)
        return self.get_response(request)


# A session holding this key sees pages of its own (a guest who paid reads what
# they bought): never served a shared page, never stored as one.
PERSONAL_SESSION_KEY = "pagecache:personal"


def _cacheable_request(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    return (
        request.method == "GET"
        and not (user is not None and user.is_authenticated)
        and not (session is not None and session.get(PERSONAL_SESSION_KEY))
        and CookieStorage.cookie_name not in request.COOKIES
        # Messages too large for their cookie wait in the session instead.
        and not (session is not None and session.get(SessionStorage.session_key))
    )


def _shows_messages(request: HttpRequest) -> bool:
    # A message the page displayed stays loaded until the message middleware
    # clears it on the way out, after this decorator.
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def _cacheable_response(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.cookies
        and not response.streaming
        and not _shows_messages(request)
    )


# What a reader page holds where the reader's CSRF token goes (tier 4). Rendered by
# `{% csrf_token %}` through coaching.context_processors.csrf_for_reader_pages.
CSRF_PLACEHOLDER = "pagecache-csrf-token-placeholder"
RENDERING_READER_PAGE = "_page_cache_reader_page"


def _shareable_reader(request: HttpRequest) -> bool:
    """A signed-in reader whose page shows nothing of them but the CSRF token."""
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    return (
        request.method == "GET"
        and user is not None
        and user.is_authenticated
        # The coach's pages carry moderation and preview controls.
        and not user.is_staff
        and session is not None
        and not session.get(PERSONAL_SESSION_KEY)
        and CookieStorage.cookie_name not in request.COOKIES
        and not session.get(SessionStorage.session_key)
    )


def _reader_page(
    request: HttpRequest, key: str, timeout: int, render: Callable[[], HttpResponse]
) -> HttpResponse:
    stored = _stored_page(key)
    if stored is not None:
        response = _hit(stored)
    else:
        response, storable = _render_reader_page(request, render)
        if storable:
            policy = getattr(response, "_csp_config", None)
            _store_page(key, (response.content, response["Content-Type"], policy), timeout)
            response[HEADER] = "miss"
    if CSRF_PLACEHOLDER.encode() in response.content:
        # One fresh mask of this reader's secret for the whole page; also renews the
        # CSRF cookie on the way out, as `{% csrf_token %}` would have.
        token = get_token(request).encode()
        response.content = response.content.replace(CSRF_PLACEHOLDER.encode(), token)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _render_reader_page(
    request: HttpRequest, render: Callable[[], HttpResponse]
) -> tuple[HttpResponse, bool]:
    """The view's page with the placeholder for the token, and whether it may be kept.

    Fails closed: if anything asked for the real token (a form rendered in Python,
    a template tag of its own), the page holds this reader's token and is not kept.
    """
    asked_before = request.META.pop("CSRF_COOKIE_NEEDS_UPDATE", False)
    setattr(request, RENDERING_READER_PAGE, True)
    try:
        response = render()
    finally:
        setattr(request, RENDERING_READER_PAGE, False)
    asked = bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE"))
    if asked_before:
        request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    return response, not asked and _cacheable_response(request, response)


def cache_for_visitors(
    timeout: int = 300,
    params: tuple[str, ...] = (),
    readers: Callable[..., str] | None = None,
) -> Callable[[Callable[..., HttpResponse]], Any]:
    """Keep the view's anonymous pages for `timeout` seconds, one per value of `params`.

    `params` names every query parameter the view (and its template) reads; any
    other parameter is ignored, so it cannot multiply the stored pages.

    `readers(request, *args, **kwargs)` opts signed-in readers in (tier 4): it names
    the reader's access class, and readers of one class share the page. Only for
    views whose page shows nothing of the reader but the header's signed-in links
    and CSRF tokens.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _cacheable_request(request):
                if readers is not None and _shareable_reader(request):
                    access = readers(request, *args, **kwargs)
                    key = f"{_key(request, current_version(), params)}:reader:{access}"
                    return _reader_page(
                        request, key, timeout, lambda: view(request, *args, **kwargs)
                    )
                response = view(request, *args, **kwargs)
                response.headers.setdefault("Cache-Control", "private, no-store")
                return response
            version = current_version()
            key = _key(request, version, params)
            stored = _stored_page(key)
            if stored is not None:
                return _hit(stored)
            response = view(request, *args, **kwargs)
            if _cacheable_response(request, response):
                policy = getattr(response, "_csp_config", None)
                _store_page(key, (response.content, response["Content-Type"], policy), timeout)
                response[HEADER] = "miss"
            return response

        # Read by the middleware, through any decorators wrapped around this one.
        setattr(wrapped, PARAMS_ATTRIBUTE, params)
        return wrapped

    return decorator
