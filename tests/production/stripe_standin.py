"""A stand-in for Stripe's API on 127.0.0.1: the one mocked piece of the topology.

It answers the calls store/stripe_gateway.py makes (create and retrieve a
Checkout Session, create a coupon, create a refund) in Stripe's shapes, serves
a "hosted checkout" page whose pay button completes the session, and sends the
signed events Stripe would send to the site's webhook over https, retrying a
failed delivery a bounded number of times as Stripe does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

DELIVERY_ATTEMPTS = 6
DELIVERY_BACKOFF = 0.5  # seconds, doubled after each failed attempt


def unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back into nested dicts; lists stay keyed."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = key.replace("]", "").split("[")
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def signature(secret: str, payload: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


class StripeStandIn:
    def __init__(self, *, webhook_url: str, webhook_secret: str, ca_file: str) -> None:
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.ca_file = ca_file
        self.lock = threading.Lock()
        self.sessions: dict[str, dict[str, Any]] = {}
        self.by_idempotency: dict[str, dict[str, Any]] = {}
        self.coupons: dict[str, int] = {}
        self.deliveries = 0
        self.delivery_retries = 0
        self.undelivered: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StripeStandIn:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- The API ------------------------------------------------------------------

    def create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        items: list[dict[str, Any]] = list(params.get("line_items", {}).values())
        subtotal = sum(
            int(item.get("quantity", 1)) * int(item["price_data"]["unit_amount"]) for item in items
        )
        currency = items[0]["price_data"].get("currency", "gbp") if items else "gbp"
        discount = 0
        for entry in params.get("discounts", {}).values():
            discount += self.coupons.get(entry.get("coupon", ""), 0)
        session_id = f"cs_test_{secrets.token_hex(12)}"
        return {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": subtotal,
            "amount_total": max(subtotal - discount, 0),
            "client_reference_id": params.get("client_reference_id"),
            "currency": currency,
            "customer_details": {"email": params.get("customer_email"), "name": None},
            "customer_email": params.get("customer_email"),
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "mode": params.get("mode", "payment"),
            "payment_intent": None,
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url", ""),
            "cancel_url": params.get("cancel_url", ""),
            "url": f"{self.url}/pay/{session_id}",
        }

    def pay(self, session_id: str) -> dict[str, Any] | None:
        with self.lock:
            session = self.sessions.get(session_id)
            if session is None:
                return None
            if session["status"] == "open":
                session.update(
                    status="complete",
                    payment_status="paid",
                    payment_intent=f"pi_test_{secrets.token_hex(10)}",
                )
            else:
                return session
        self.send_event("checkout.session.completed", dict(session))
        return session

    def send_event(self, event_type: str, data_object: dict[str, Any]) -> bool:
        event_id = f"evt_test_{secrets.token_hex(12)}"
        event: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            "api_version": "2025-03-31.basil",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
            "data": {"object": data_object},
        }
        payload = json.dumps(event)
        wait = DELIVERY_BACKOFF
        for attempt in range(DELIVERY_ATTEMPTS):
            header = signature(self.webhook_secret, payload, int(time.time()))
            try:
                answer = requests.post(
                    self.webhook_url,
                    data=payload.encode(),
                    headers={"Content-Type": "application/json", "Stripe-Signature": header},
                    timeout=10,
                    verify=self.ca_file,
                )
                if answer.status_code == 200:
                    with self.lock:
                        self.deliveries += 1
                        self.delivery_retries += attempt
                    return True
            except requests.RequestException:
                pass
            time.sleep(wait)
            wait *= 2
        with self.lock:
            self.undelivered.append(event_id)
        return False

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, body: dict[str, Any] | str, **headers: str) -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(status)
                kind = "text/html" if isinstance(body, str) else "application/json"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def form(self) -> dict[str, Any]:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                return unflatten(parse_qsl(raw, keep_blank_values=True))

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path.startswith("/v1/checkout/sessions/"):
                    with standin.lock:
                        session = standin.sessions.get(path.rsplit("/", 1)[-1])
                    if session is None:
                        error = {"type": "invalid_request_error", "message": "No such session"}
                        self.answer(404, {"error": error})
                    else:
                        self.answer(200, session)
                elif path.startswith("/pay/"):
                    page = f'<form method="post" action="{path}"><button>Pay</button></form>'
                    self.answer(200, page)
                else:
                    self.answer(404, {"error": {"type": "invalid_request_error"}})

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                params = self.form()
                key = self.headers.get("Idempotency-Key") or ""
                if key and key in standin.by_idempotency:
                    self.answer(200, standin.by_idempotency[key])
                    return
                if path == "/v1/checkout/sessions":
                    result = standin.create_session(params)
                    with standin.lock:
                        standin.sessions[result["id"]] = result
                elif path == "/v1/coupons":
                    result = {"id": f"co_{secrets.token_hex(6)}", "object": "coupon", **params}
                    standin.coupons[result["id"]] = int(params.get("amount_off", 0))
                elif path == "/v1/refunds":
                    result = {
                        "id": f"re_test_{secrets.token_hex(10)}",
                        "object": "refund",
                        "amount": int(params.get("amount", 0)),
                        "payment_intent": params.get("payment_intent"),
                        "metadata": params.get("metadata", {}),
                        "status": "succeeded",
                    }
                elif path.startswith("/pay/"):
                    session = standin.pay(path.rsplit("/", 1)[-1])
                    if session is None:
                        self.answer(404, "no such session")
                        return
                    target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
                    self.answer(303, "", Location=target)
                    return
                else:
                    self.answer(404, {"error": {"type": "invalid_request_error"}})
                    return
                if key:
                    standin.by_idempotency[key] = result
                self.answer(200, result)

        return Handler
