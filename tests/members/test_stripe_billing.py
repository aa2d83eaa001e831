"""With a Stripe key, the member's requests become Stripe Billing calls (Stripe's servers are
stood in for by a local HTTP server that records what it was asked)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from members import clock, services
from members.models import Membership, Status
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

ANSWERS = {
    "/v1/checkout/sessions": {"id": "cs_1", "object": "checkout.session", "url": "https://checkout.test/cs_1"},
    "/v1/subscriptions/sub_1": {
        "id": "sub_1",
        "object": "subscription",
        "items": {"object": "list", "data": [{"id": "si_1", "object": "subscription_item"}]},
    },
    "/v1/billing_portal/sessions": {
        "id": "bps_1", "object": "billing_portal.session", "url": "https://billing.test/p/1"
    },
}  # fmt: skip


@pytest.fixture
def stripe_api(settings: Any) -> Iterator[list[tuple[str, str, dict[str, list[str]]]]]:
    seen: list[tuple[str, str, dict[str, list[str]]]] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode()) if length else {}
            path = self.path.split("?")[0]
            seen.append((method, path, form))
            body = json.dumps(ANSWERS.get(path, {"error": {"message": "unknown"}}))
            self.send_response(200 if path in ANSWERS else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_SECRET_KEY = "sk_test_members"
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    yield seen
    server.shutdown()
    server.server_close()


def test_joining_opens_a_subscription_checkout_with_the_tier_s_price_trial_and_account(
    stripe_api, member_tier
):
    member_tier.stripe_monthly_price_id = "price_member_monthly"
    member_tier.save()
    user = make_user("member@example.com")
    url = services.start_subscription(
        user=user,
        tier=member_tier,
        interval="month",
        success_url="https://site.test/account/membership/",
        cancel_url="https://site.test/pricing/",
    )
    assert url == "https://checkout.test/cs_1"
    [(method, path, form)] = stripe_api
    assert (method, path) == ("POST", "/v1/checkout/sessions")
    assert form["mode"] == ["subscription"]
    assert form["line_items[0][price]"] == ["price_member_monthly"]
    assert form["subscription_data[trial_period_days]"] == ["7"]
    assert form["subscription_data[metadata][user_id]"] == [str(user.pk)]
    assert form["customer_email"] == ["member@example.com"]


def test_a_tier_without_a_stripe_price_is_refused_before_calling_stripe(stripe_api, member_tier):
    with pytest.raises(services.MembershipError, match="no Stripe price"):
        services.start_subscription(
            user=make_user("member@example.com"),
            tier=member_tier,
            interval="year",
            success_url="https://site.test/a/",
            cancel_url="https://site.test/b/",
        )
    assert stripe_api == []


def test_plan_changes_cancel_resume_and_the_card_go_to_stripe(
    stripe_api, client, member_tier, pro_tier
):
    pro_tier.stripe_monthly_price_id = "price_pro_monthly"
    pro_tier.save()
    user = make_user("member@example.com")
    now = clock.now()
    membership = Membership.objects.create(
        user=user,
        tier=member_tier,
        status=Status.ACTIVE,
        stripe_customer_id="cus_1",
        stripe_subscription_id="sub_1",
        current_period_start=now,
        current_period_end=now + dt.timedelta(days=30),
    )
    services.change_plan(membership=membership, tier=pro_tier, interval="month")
    services.cancel(membership=membership)
    client.force_login(user)
    response = client.get("/account/membership/card/")
    assert response.status_code == 302 and response.url == "https://billing.test/p/1"

    posts = [(path, form) for method, path, form in stripe_api if method == "POST"]
    change, cancel, portal = posts
    assert change[0] == "/v1/subscriptions/sub_1"
    assert change[1]["items[0][id]"] == ["si_1"]
    assert change[1]["items[0][price]"] == ["price_pro_monthly"]
    assert change[1]["proration_behavior"] == ["always_invoice"]
    assert cancel == ("/v1/subscriptions/sub_1", {"cancel_at_period_end": ["true"]})
    assert portal[1]["customer"] == ["cus_1"]
    # Nothing changed here: the membership follows Stripe's events, not our requests.
    membership.refresh_from_db()
    assert membership.tier == member_tier and not membership.cancel_at_period_end
