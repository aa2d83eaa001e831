"""Every public form, given empty, huge, malformed, script-laden and wrong-type input.

Each answer must be a clear message (a form error, or a 400 with a JSON body),
never a 500, and nothing may be written: rows are counted before and after.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


class Setting:
    """Just what the forms need (the full `world` costs more than these tests)."""

    def __init__(self, event_type: Any = None, product: Any = None) -> None:
        self.event_type = event_type
        self.product = product


@pytest.fixture
def booking_setup(coach: Any) -> Setting:
    from coaching.models import CoachProfile
    from tests.bookings.factories import make_event_type

    CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    return Setting(event_type=make_event_type(coach))


@pytest.fixture
def store_setup(db: None) -> Setting:
    from tests.store.factories import ProductFactory

    return Setting(product=ProductFactory(slug="study-guide", title="Study guide", price=2900))


HUGE = "x" * 100_000
SCRIPT = '<script>alert("owned")</script>'
NUL = "a\x00b"

# Each form gets the same kinds of bad input, in its own field names.
KINDS = ("empty", "huge", "malformed", "script", "wrong-type", "nul")


def _models(*labels: str) -> list[type[models.Model]]:
    from django.apps import apps

    found = []
    for label in labels:
        try:
            found.append(apps.get_model(label))
        except LookupError:
            continue
    return found


WATCHED = (
    "newsletter.Subscriber",
    "newsletter.Subscription",
    "bookings.Booking",
    "bookings.BookingReminder",
    "bookings.WaitlistEntry",
    "store.Order",
    "store.OrderItem",
    "coaching.OutboundEmail",
    "coaching.User",
    "guides.GuideView",
    "clients.Contact",
)


def counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in _models(*WATCHED)}


@contextmanager
def writes_nothing() -> Iterator[None]:
    before = counts()
    yield
    after = counts()
    changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
    assert not changed, f"rows written on bad input: {changed}"


def assert_clear_refusal(response: Any, *, statuses: tuple[int, ...] = (400,)) -> None:
    assert response.status_code < 500
    assert response.status_code in statuses, response.status_code
    body = response.content.decode(errors="replace")
    assert SCRIPT not in body, "input echoed without escaping"
    if response.get("Content-Type", "").startswith("application/json"):
        assert json.loads(body).get("error") or json.loads(body).get("detail"), body
    else:
        assert "error" in body.lower() or "valid" in body.lower() or "enter" in body.lower()


# --- Newsletter signup --------------------------------------------------------------

SIGNUP: dict[str, dict[str, Any]] = {
    "empty": {},
    "huge": {"email": HUGE + "@example.com", "name": HUGE},
    "malformed": {"email": "not an address@@", "lists": "zz"},
    "script": {"email": SCRIPT + "@example.com", "name": SCRIPT},
    "wrong-type": {"email": ["a@example.com", "b@example.com"], "lists": ["x", "y"]},
    "nul": {"email": "reader@exa\x00mple.com", "name": NUL},
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_newsletter_signup_refuses_bad_input_and_writes_nothing(kind: str) -> None:
    with writes_nothing():
        response = Client().post("/newsletter/subscribe/", SIGNUP[kind])
    assert_clear_refusal(response)


# --- Booking: the intake pages and the JSON API ------------------------------------------


def _hold(world: Setting) -> str:
    """A real hold, as the picker makes it; returns the details page URL."""
    from tests.bookings.factories import london, next_weekday

    start = london(next_weekday(days_ahead=4, weekday=3), 11).isoformat()
    response = Client().post(
        reverse("bookings:hold", args=[world.event_type.slug]),
        {"start": start, "tz": "Europe/London"},
    )
    assert response.status_code == 302, response.status_code
    return str(response["Location"])


HOLD: dict[str, dict[str, Any]] = {
    "empty": {},
    "huge": {"start": HUGE, "tz": HUGE},
    "malformed": {"start": "2025-13-45T99:99", "tz": "Mars/Olympus"},
    "script": {"start": SCRIPT, "tz": SCRIPT},
    "wrong-type": {"start": ["2030-01-01T10:00:00Z", "x"], "tz": ["a", "b"]},
    "nul": {"start": "2030-01-01T10:00\x00:00Z", "tz": "Europe/Lon\x00don"},
}


@pytest.mark.parametrize("kind", KINDS)
def test_picking_a_time_with_bad_input_explains_and_holds_nothing(
    kind: str, booking_setup: Setting
) -> None:
    browser = Client()
    with writes_nothing():
        response = browser.post(
            reverse("bookings:hold", args=[booking_setup.event_type.slug]), HOLD[kind]
        )
    assert response.status_code == 302  # back to the picker, with a message
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert "pick one of the times" in page.content.decode().lower()


INTAKE: dict[str, dict[str, Any]] = {
    "empty": {},
    "huge": {"name": HUGE, "email": "a@example.com", "time_zone": "Europe/London",
             "q_goal": HUGE},
    "malformed": {"name": "Casey", "email": "casey-at-example", "time_zone": "Nowhere/Zone",
                  "q_goal": "x", "q_linkedin": "not a url", "q_stage": "Retired"},
    "script": {"name": "Casey", "email": SCRIPT, "time_zone": SCRIPT, "q_goal": "x",
               "q_linkedin": "javascript:alert(1)"},
    "wrong-type": {"name": ["a", "b"], "email": ["a@example.com", "x"], "time_zone": ["x", "y"],
                   "q_stage": ["Exploring", "Interviewing", "x"]},
    "nul": {"name": NUL, "email": "a@example.com", "time_zone": "Europe/London", "q_goal": NUL},
}  # fmt: skip


@pytest.mark.parametrize(
    "kind",
    KINDS,
)
def test_the_intake_form_refuses_bad_input_and_confirms_nothing(
    kind: str, booking_setup: Setting
) -> None:
    from bookings.models import Booking

    details = _hold(booking_setup)
    held = Booking.objects.get(status="held")
    with writes_nothing():
        response = Client().post(details, INTAKE[kind])
    assert_clear_refusal(response)
    held.refresh_from_db()
    assert held.status == "held" and held.email == "" and held.answers == {}


def _api_payload(world: Setting, **fields: Any) -> dict[str, Any]:
    from tests.bookings.factories import london, next_weekday

    return {
        "event_type": world.event_type.slug,
        "start": london(next_weekday(days_ahead=4, weekday=3), 14).isoformat(),
        "name": "Casey",
        "email": "casey@example.com",
        "time_zone": "Europe/London",
        "answers": {"goal": "A job"},
        **fields,
    }


API: dict[str, Callable[[Setting], Any]] = {
    "empty": lambda w: {},
    "huge": lambda w: _api_payload(w, name=HUGE, answers={"goal": HUGE}),
    "malformed": lambda w: _api_payload(w, start="yesterday-ish", email="nope",
                                        time_zone="Mars/Olympus"),
    "script": lambda w: _api_payload(w, event_type=SCRIPT, email=SCRIPT, time_zone=SCRIPT),
    "wrong-type": lambda w: _api_payload(w, start=12, name={"first": "x"}, answers=["a"],
                                         email=None),
    "nul": lambda w: _api_payload(w, name=NUL, answers={"goal": NUL}),
}  # fmt: skip

RAW_API_BODIES = {
    "not json": (b"{not json", "application/json"),
    "a list": (b"[1, 2, 3]", "application/json"),
    "a string": (b'"hello"', "application/json"),
    "answers nested": (
        json.dumps({"answers": {"goal": {"deep": ["x"]}}}).encode(),
        "application/json",
    ),
    "form-encoded": (b"event_type=x&start=y", "application/x-www-form-urlencoded"),
    "text": (b"hello", "text/plain"),
    "broken utf-8": (b'{"name": "\xff\xfe"}', "application/json"),
    "deep nesting": (b"[" * 5000 + b"]" * 5000, "application/json"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_booking_api_answers_bad_input_with_a_json_400(
    kind: str, booking_setup: Setting
) -> None:
    with writes_nothing():
        response = Client().post(
            "/api/bookings/", json.dumps(API[kind](booking_setup)), content_type="application/json"
        )
    assert_clear_refusal(response)
    assert response.json()["error"]


@pytest.mark.parametrize("name", list(RAW_API_BODIES))
def test_the_booking_api_answers_unparseable_bodies_with_a_json_4xx(
    name: str, booking_setup: Setting
) -> None:
    body, content_type = RAW_API_BODIES[name]
    with writes_nothing():
        response = Client().post("/api/bookings/", body, content_type=content_type)
    assert_clear_refusal(response, statuses=(400, 415))


@pytest.mark.parametrize(
    "query",
    ["", "q=", f"q={HUGE}", "q=%00", "q=a&page=-5", "q=a&page=99999999999999999999999",
     "q=a&page_size=0", f"q={SCRIPT}", "q=a&q=b&q=c", "tz=Mars&event_type=x&start=2020-99-01",
     "event_type=discovery-call&start=2030-01-01&end=2020-01-01&tz=UTC",
     "event_type=discovery-call&start=2030-01-01&end=2031-01-01&tz=UTC"],
)  # fmt: skip
def test_the_read_apis_answer_bad_queries_with_json_not_500(
    query: str, booking_setup: Setting
) -> None:
    for path in ("/api/slots/", "/api/guides/search/"):
        with writes_nothing():
            response = Client().get(f"{path}?{query}")
        assert response.status_code < 500, (path, query)
        assert response.status_code in (200, 400, 404), (path, query, response.status_code)
        assert isinstance(response.json(), dict)
        if response.status_code != 200:
            assert response.json()["error"], (path, query)


# --- Store: the checkout email form -----------------------------------------------------

CHECKOUT: dict[str, dict[str, Any]] = {
    "empty": {},
    "huge": {"email": HUGE + "@example.com", "coupon": HUGE, "business_address": HUGE},
    "malformed": {"email": "buyer(at)example", "coupon": "NOPE"},
    "script": {"email": SCRIPT, "coupon": SCRIPT, "tax_id": SCRIPT},
    "wrong-type": {"email": "12345", "amount": "lots", "coupon": "1e309"},
    "nul": {"email": "buyer@example.com", "coupon": "SAVE\x0010"},
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_checkout_form_refuses_bad_input_and_creates_no_order(
    kind: str, store_setup: Setting
) -> None:
    with writes_nothing():
        response = Client().post(store_setup.product.get_absolute_url(), CHECKOUT[kind])
    assert_clear_refusal(response)


# --- Search and sign-in ------------------------------------------------------------------

SEARCH = {
    "empty": "",
    "huge": HUGE,
    "malformed": "%%% \"unterminated & | ! ( ) :* <-> '",
    "script": SCRIPT,
    "wrong-type": "a&q=b&page=x&page=-1",
    "nul": "care\x00er",
}


@pytest.mark.parametrize(
    "kind",
    KINDS,
)
def test_search_answers_bad_queries_with_a_page_and_writes_nothing(kind: str) -> None:
    from urllib.parse import quote

    with writes_nothing():
        query = SEARCH[kind] if kind == "wrong-type" else quote(SEARCH[kind])
        response = Client().get(f"/search/?q={query}")
    assert response.status_code == 200
    assert SCRIPT not in response.content.decode()


LOGIN: dict[str, dict[str, Any]] = {
    "empty": {},
    "huge": {"login": HUGE + "@example.com", "password": HUGE},
    "malformed": {"login": "@@@", "password": "x"},
    "script": {"login": SCRIPT, "password": SCRIPT},
    "wrong-type": {"login": ["a@example.com", "b@example.com"], "password": ["x", "y"]},
    "nul": {"login": "candi\x00date@example.com", "password": NUL},
}


@pytest.mark.parametrize("kind", KINDS)
def test_the_sign_in_form_refuses_bad_input_with_a_message(kind: str) -> None:
    browser = Client()
    with writes_nothing():
        response = browser.post("/accounts/login/", LOGIN[kind])
    assert_clear_refusal(response, statuses=(200, 400))
    assert "_auth_user_id" not in browser.session


# --- Clients: the coach's contact import (staff only, but still must not 500) ------------------

CSV_FILES: dict[str, bytes] = {
    "empty": b"",
    "huge": b"email,name\n" + (b"x" * 100_000) + b",y\n",
    "malformed": b'email,name\n"unterminated,quote\nnext@example.com,"a""b\n',
    "script": f"email,name\n{SCRIPT},{SCRIPT}\n".encode(),
    "wrong-type": b"%PDF-1.7\n\xff\xfe\x00\x00binary",
    "nul": b"email,name\nnul\x00@example.com,x\n",
    "one good row and one bad": b"email,name\ngood@example.com,Good\nbad-address,Bad\n",
}


@pytest.mark.parametrize("kind", list(CSV_FILES))
def test_the_contact_import_refuses_bad_files_and_imports_nothing(
    kind: str, coach_client: Any
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("admin:clients_contact_import")
    upload = SimpleUploadedFile("contacts.csv", CSV_FILES[kind], content_type="text/csv")
    with writes_nothing():
        response = coach_client.post(url, {"file": upload})
    assert_clear_refusal(response, statuses=(200, 400))
