"""A calendar address cannot make the site fetch from inside its own network.

Real HTTP servers on loopback addresses stand in for the two sides: one plays a
public calendar host, the other an internal service that must never be reached.
Which loopback address counts as "public" is the one thing the tests decide.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bookings import busy
from bookings.models import BusyCalendar
from coaching import outbound

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self, address: str, location: str = "") -> None:
        self.hits: list[str] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                recorder.hits.append(self.path)
                if location:
                    self.send_response(302)
                    self.send_header("Location", location)
                    self.end_headers()
                    return
                body = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer((address, 0), Handler)
        self.url = f"http://{address}:{self.httpd.server_address[1]}/cal.ics"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def internal() -> Iterator[Recorder]:
    server = Recorder("127.0.0.2")
    yield server
    server.close()


@pytest.fixture
def only_127_0_0_1_is_public(monkeypatch: Any) -> None:
    monkeypatch.setattr(outbound, "is_public", lambda address: address == "127.0.0.1")


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
     "0.0.0.0", "192.0.2.10", "224.0.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1",
     "::ffff:10.0.0.1"],
)  # fmt: skip
def test_loopback_private_link_local_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not outbound.is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_addresses_on_the_internet_are_public(address: str) -> None:
    assert outbound.is_public(address)


def test_a_feed_on_an_internal_address_is_refused_before_any_request(
    coach: Any, internal: Recorder
) -> None:
    feed = BusyCalendar.objects.create(coach=coach, name="Sneaky", url=internal.url)

    assert busy.refresh_busy_calendar(feed=feed) == "failed"

    assert internal.hits == []
    assert "private, local or reserved" in feed.last_error


def test_a_name_that_resolves_to_loopback_is_refused(coach: Any, internal: Recorder) -> None:
    port = internal.httpd.server_address[1]
    with pytest.raises(busy.FeedError, match="private, local or reserved"):
        busy.fetch_ics(f"http://localhost:{port}/cal.ics")
    assert internal.hits == []


def test_a_public_feed_that_redirects_inside_the_network_is_refused_at_the_second_hop(
    coach: Any, internal: Recorder, only_127_0_0_1_is_public: None
) -> None:
    public = Recorder("127.0.0.1", location=internal.url)
    try:
        feed = BusyCalendar.objects.create(coach=coach, name="Redirecting", url=public.url)
        assert busy.refresh_busy_calendar(feed=feed) == "failed"
    finally:
        public.close()

    assert public.hits == ["/cal.ics"]
    assert internal.hits == []
    assert "private, local or reserved" in feed.last_error


def test_a_public_feed_is_still_fetched(coach: Any, only_127_0_0_1_is_public: None) -> None:
    public = Recorder("127.0.0.1")
    try:
        fetched = busy.fetch_ics(public.url)
    finally:
        public.close()

    assert fetched.body is not None and b"VCALENDAR" in fetched.body
