"""Signed-in readers share a guide's page per access class, each with their own token
(coaching/pagecache.py, tier 4): never another reader's token, never more text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.test import Client

from coaching import pagecache
from coaching.pagecache import CSRF_PLACEHOLDER, cache_for_visitors
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def signed_in(user: Any) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_two_readers_share_one_stored_page_each_with_a_token_that_signs_them_out(
    public_guide, candidate, stranger
):
    first, second = signed_in(candidate), signed_in(stranger)
    url = public_guide.get_absolute_url()

    pages = [first.get(url), second.get(url)]

    assert [page["X-Page-Cache"] for page in pages] == ["miss", "hit"]
    for page in pages:
        body = page.content.decode()
        assert CSRF_PLACEHOLDER not in body
        assert "Sign out" in body
        assert page["Cache-Control"] == "private, no-store"
    # The second reader's token is theirs: it signs them out (a token from the first
    # reader's page would be refused by the CSRF check).
    token = TOKEN.search(pages[1].content.decode()).group(1)
    assert second.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert not second.get(url).wsgi_request.user.is_authenticated


def test_a_reader_who_bought_a_guide_and_one_who_did_not_never_share_its_page(
    paid_guide, candidate, stranger, entitle
):
    entitle(candidate, paid_guide)
    url = paid_guide.get_absolute_url()

    buyer_page = signed_in(candidate).get(url)
    other_page = signed_in(stranger).get(url)
    again = signed_in(make_user("third@example.com")).get(url)

    assert "Zebracorn negotiation playbook" in buyer_page.content.decode()
    assert "Zebracorn negotiation playbook" not in other_page.content.decode()
    assert [buyer_page["X-Page-Cache"], other_page["X-Page-Cache"]] == ["miss", "miss"]
    assert again["X-Page-Cache"] == "hit"
    assert "Zebracorn negotiation playbook" not in again.content.decode()


def test_the_coach_and_a_visitor_never_get_a_readers_page(public_guide, candidate, coach_client):
    url = public_guide.get_absolute_url()
    signed_in(candidate).get(url)

    coach_page = coach_client.get(url)
    visitor_page = Client().get(url)

    assert coach_page.get("X-Page-Cache") is None
    assert "Sign out" in coach_page.content.decode()
    assert "Sign out" not in visitor_page.content.decode()


def test_a_reader_with_a_message_waiting_is_neither_served_nor_stored_a_shared_page(
    public_guide, candidate, stranger
):
    url = public_guide.get_absolute_url()
    reader = signed_in(candidate)
    waiting = [Message(messages.SUCCESS, "Your refund was requested.")]
    reader.cookies[CookieStorage.cookie_name] = CookieStorage(HttpRequest())._encode(waiting)

    shown = reader.get(url)
    later = signed_in(stranger).get(url)

    assert shown.get("X-Page-Cache") is None
    assert "Your refund was requested." in shown.content.decode()
    assert later["X-Page-Cache"] == "miss"
    assert "Your refund was requested." not in later.content.decode()


def test_a_page_that_asked_for_the_real_token_itself_is_not_kept(rf, candidate):
    @cache_for_visitors(readers=lambda request: "reader")
    def form_in_python(request):
        return HttpResponse(f'<input name="csrfmiddlewaretoken" value="{get_token(request)}">')

    def visit() -> HttpResponse:
        request = rf.get("/form/")
        request.user = candidate
        request.session = {}
        request.COOKIES = {}
        return form_in_python(request)

    assert [visit().get("X-Page-Cache") for _ in range(2)] == [None, None]
    assert not pagecache.local_pages._pages


def test_a_page_that_shows_a_message_it_just_added_is_not_kept_for_readers(rf, candidate):
    @cache_for_visitors(readers=lambda request: "reader")
    def saved(request):
        messages.success(request, "Saved.")
        return HttpResponse(" ".join(str(m) for m in messages.get_messages(request)))

    def visit() -> HttpResponse:
        request = rf.get("/saved/")
        request.user = candidate
        request.session = {}
        request._messages = CookieStorage(request)
        return saved(request)

    assert [visit().get("X-Page-Cache") for _ in range(2)] == [None, None]


def test_the_hub_is_shared_by_signed_in_readers_and_shows_them_signed_in(
    public_guide, candidate, stranger
):
    pages = [signed_in(user).get("/guides/") for user in (candidate, stranger)]

    assert [page["X-Page-Cache"] for page in pages] == ["miss", "hit"]
    assert all("Sign out" in page.content.decode() for page in pages)
    assert public_guide.title in pages[1].content.decode()
