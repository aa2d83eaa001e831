"""The gateway sends its API calls to STRIPE_API_BASE (Stripe, or the prodcheck stand-in)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from store import stripe_gateway


@pytest.fixture
def api() -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps({"id": "cs_test_1", "object": "checkout.session", "status": "open"})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_the_gateway_asks_the_configured_api_address(
    settings: Any, api: tuple[str, list[str]]
) -> None:
    address, seen = api
    settings.STRIPE_SECRET_KEY = "sk_test_gateway_address"
    settings.STRIPE_API_BASE = address

    session = stripe_gateway.retrieve_checkout_session("cs_test_1")

    assert session["status"] == "open"
    assert seen == ["/v1/checkout/sessions/cs_test_1"]
