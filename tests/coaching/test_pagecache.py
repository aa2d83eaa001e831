"""The process-local tier of the page cache: bounded in time, size and content version."""

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpResponse

from coaching import pagecache
from coaching.pagecache import LocalPages, cache_for_visitors


def page(size: int) -> tuple[bytes, str]:
    return (b"x" * size, "text/html")


def test_a_local_copy_is_served_until_its_time_to_live_runs_out(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: clock[0])
    pages = LocalPages(ttl=5.0)
    pages.put("a", page(10))
    clock[0] = 104.9
    assert pages.get("a") == page(10)
    clock[0] = 105.1
    assert pages.get("a") is None


def test_local_copies_stay_under_their_size_limit_dropping_the_least_recently_used():
    pages = LocalPages(ttl=5.0, max_bytes=2_000)
    for key in "abcd":
        pages.put(key, page(500))
    pages.get("a")  # now the most recently used
    pages.put("e", page(500))
    assert [key for key in "abcde" if pages.get(key) is not None] == ["a", "c", "d", "e"]
    pages.put("huge", page(600))  # over a quarter of the budget: never kept
    assert pages.get("huge") is None


@pytest.mark.django_db
def test_a_version_bumped_by_another_process_reaches_this_one_within_a_second(client):
    from tests.guides.factories import GuideFactory

    url = f"/guides/{GuideFactory().slug}/"
    assert [client.get(url)["X-Page-Cache"] for _ in range(2)] == ["miss", "hit"]
    cache.incr(pagecache.VERSION_KEY)  # as another process's bump_version does
    assert client.get(url)["X-Page-Cache"] == "hit"  # this process re-reads once a second
    pagecache._memo.update(read_at=0.0)  # ... and a second has passed
    assert client.get(url)["X-Page-Cache"] == "miss"


def test_a_page_that_shows_a_flash_message_it_just_added_is_never_stored(rf):
    @cache_for_visitors()
    def saved(request):
        messages.success(request, "Saved.")
        shown = " ".join(str(message) for message in messages.get_messages(request))
        return HttpResponse(shown)

    def visit():
        request = rf.get("/saved/")
        request.user = AnonymousUser()
        request._messages = CookieStorage(request)
        return saved(request)

    assert [visit().get("X-Page-Cache") for _ in range(2)] == [None, None]


def test_a_visitor_whose_session_holds_a_waiting_message_is_neither_served_nor_stored(rf):
    calls = []

    @cache_for_visitors()
    def page(request):
        calls.append(request)
        return HttpResponse("Welcome")

    def visit(session):
        request = rf.get("/welcome/")
        request.user = AnonymousUser()
        request.session = session
        return page(request)

    visit({})  # stores the page for visitors
    waiting = visit({"_messages": '[["__json_message", 0, 25, "Your booking is confirmed."]]'})

    assert waiting.get("X-Page-Cache") is None
    assert "no-store" in waiting["Cache-Control"]
    assert len(calls) == 2
