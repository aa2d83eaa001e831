"""Every throttled action of the public site still refuses past its limit while Redis is
down, per network and per address alike, with a 429, Retry-After and a sentence that
says why (the API's error field on JSON endpoints).

Each action's limits are lowered to two for its own test, so the third attempt from one
network (each with a new address) or for one address (each from a new network) is the
one refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client

from tests.bookings.factories import london, next_weekday
from tests.security.conftest import committed

pytestmark = pytest.mark.django_db

ALLOWED = 2
ONE_NETWORK = "203.0.113.5"
ONE_ADDRESS = "same.person@example.com"


@dataclass
class Scene:
    """What the attempts need: the `world` of tests/security, a workshop date and a guide."""

    world: Any
    session: Any

    def start(self, n: int) -> Any:
        # Past the 10:00 call the world already booked.
        return london(next_weekday(), 11) + timedelta(minutes=30 * n)


Attempt = Callable[[Client, Scene, str, int], HttpResponse]


@dataclass(frozen=True)
class Action:
    limit: str  # its name in settings.THROTTLE_LIMITS
    attempt: Attempt
    refusal: str  # the sentence on the page, or the API's error
    api: bool = False
    signed_in: bool = False
    # Limited per network, and per address wherever one is given.
    per: tuple[str, ...] = ("ip", "email")
    # Past the limit for one address the page looks the same and nothing is sent, so a
    # stranger cannot learn whether an address is known (the newsletter's signup).
    quiet_per_address: bool = False


def hold_a_time(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post("/book/discovery-call/hold/", {"start": scene.start(n).isoformat()})


def book_on_the_page(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    held = hold_a_time(browser, scene, email, n)
    assert held.status_code == 302 and "/details/" in held["Location"], held
    return browser.post(
        held["Location"],
        {"name": "A visitor", "email": email, "time_zone": "Europe/London", "q_goal": "A call"},
    )


def book_through_the_api(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post(
        "/api/bookings/",
        {
            "event_type": "discovery-call",
            "start": scene.start(n).astimezone(UTC).isoformat(),
            "name": "A visitor",
            "email": email,
            "time_zone": "Europe/London",
            "answers": {"goal": "A call"},
        },
        content_type="application/json",
    )


def join_the_waiting_list(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post(
        "/book/discovery-call/waitlist/",
        {"name": "A visitor", "email": email, "time_zone": "Europe/London"},
    )


def take_a_workshop_seat(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post(
        "/workshops/negotiation-workshop/book/",
        {"session": scene.session.pk, "name": "A visitor", "email": email, "time_zone": "UTC"},
    )


def join_a_workshop_waitlist(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post(
        "/workshops/negotiation-workshop/waitlist/",
        {"session": scene.session.pk, "name": "A visitor", "email": email, "time_zone": "UTC"},
    )


def start_a_checkout(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post(scene.world.product.get_absolute_url(), {"email": email})


def sign_up_for_the_newsletter(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post("/newsletter/subscribe/", {"email": email})


def ask_for_a_sign_in_code(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post("/accounts/login/code/", {"email": email})


def sign_up(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    from tests.conftest import PASSWORD

    return browser.post(
        "/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def write_to_the_coach(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    from tests.clients.test_contact_form import message

    return browser.post("/contact/", message(email=email))


def ask_for_a_refund(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    from coaching.models import User
    from store.models import Order
    from tests.store.conftest import start_order

    buyer = User.objects.get(email=email)
    order = Order.objects.filter(user=buyer).first() or start_order(
        scene.world.product, email=email, user=buyer
    )
    return browser.post(f"/library/orders/{order.number}/refund/", {"reason": "Not for me."})


def start_a_membership_checkout(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post("/account/membership/subscribe/", {"tier": "member", "interval": "month"})


def count_a_view(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.post(f"{scene.world.paid_guide.get_absolute_url()}viewed/")


def search_the_guides(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.get("/search/", {"q": f"loop {n}"})


def search_through_the_api(browser: Client, scene: Scene, email: str, n: int) -> HttpResponse:
    return browser.get("/api/guides/search/", {"q": f"loop {n}"})


ACTIONS = {
    "slot hold": Action(
        "slot-hold",
        hold_a_time,
        "Too many times were held from here in a short while.",
        per=("ip",),  # a hold names no one yet
    ),
    "workshop seat hold": Action(
        "slot-hold", take_a_workshop_seat, "Too many seats were booked from here.", per=("ip",)
    ),
    # A seat is booked in the same step, invitation and all: a booking like any other.
    "workshop seat booking": Action(
        "booking",
        take_a_workshop_seat,
        "Too many bookings were made from here or for this address.",
    ),
    "booking page": Action(
        "booking", book_on_the_page, "Too many bookings were made from here or for this address."
    ),
    "bookings API": Action(
        "booking", book_through_the_api, "Too many bookings from here or for this address.", True
    ),
    "waitlist": Action(
        "waitlist", join_the_waiting_list, "Too many waiting-list requests from here."
    ),
    "workshop waitlist": Action(
        "waitlist", join_a_workshop_waitlist, "Too many waiting-list requests from here."
    ),
    "checkout": Action("checkout", start_a_checkout, "Too many checkouts were started from here."),
    "membership checkout": Action(
        "checkout",
        start_a_membership_checkout,
        "Too many checkouts were started from here.",
        signed_in=True,
    ),
    "newsletter signup": Action(
        "newsletter-signup",
        sign_up_for_the_newsletter,
        "Too many signups from here",
        quiet_per_address=True,
    ),
    "sign-in code": Action(
        "account-request_login_code", ask_for_a_sign_in_code, "Too many attempts from here."
    ),
    # Not in the list of throttled actions, but it mails the address given: the same rule.
    "sign-up": Action("account-signup", sign_up, "Too many attempts from here."),
    "contact form": Action(
        "contact", write_to_the_coach, "Several messages were sent from here just now."
    ),
    "refund request": Action(
        "refund-request", ask_for_a_refund, "Too many refund requests in a day.", signed_in=True
    ),
    "view beacon": Action(
        "view-beacon", count_a_view, "Too many views from here.", True, per=("ip",)
    ),
    "search page": Action(
        "search", search_the_guides, "Too many searches from here just now.", per=("ip",)
    ),
    "search API": Action(
        "search",
        search_through_the_api,
        "Too many searches from here just now.",
        True,
        per=("ip",),
    ),
}

CASES = [
    pytest.param(name, kind, id=f"{name} per {kind}")
    for name, action in ACTIONS.items()
    for kind in action.per
]


@pytest.fixture
def scene(world: Any, coach: Any) -> Scene:
    from members.models import Tier
    from tests.bookings.test_seats import make_session, make_workshop

    Tier.objects.create(name="Member", slug="member", rank=10, monthly_amount=1500)
    return Scene(world=world, session=make_session(make_workshop(coach)))


def visitor(n: int, kind: str, *, signed_in: bool) -> tuple[Client, str]:
    """The n-th attempt's browser and address: one network with a new address each time
    when the limit is per IP, else one person from a new network each time."""
    from coaching.models import User
    from tests.conftest import make_user

    if kind == "ip":
        browser, email = Client(REMOTE_ADDR=ONE_NETWORK), f"visitor{n}@example.com"
    else:
        browser, email = Client(REMOTE_ADDR=f"198.51.100.{n + 1}"), ONE_ADDRESS
    if signed_in:
        person = User.objects.filter(email=email).first() or make_user(email)
        browser.force_login(person)
    return browser, email


@pytest.mark.parametrize(("name", "kind"), CASES)
def test_with_redis_down_each_throttled_action_still_refuses_past_its_limit(
    name: str, kind: str, scene: Scene, redis_down: None, settings: Any
) -> None:
    action = ACTIONS[name]
    lowered = {
        key: (ALLOWED, window)
        for key, (_, window) in settings.THROTTLE_LIMITS[action.limit].items()
    }
    settings.THROTTLE_LIMITS = {**settings.THROTTLE_LIMITS, action.limit: lowered}
    mail.outbox.clear()

    answers = []
    for n in range(ALLOWED + 1):
        browser, email = visitor(n, kind, signed_in=action.signed_in)
        with committed():  # the emails each attempt owes go out as they would
            answers.append(action.attempt(browser, scene, email, n))
        if n == ALLOWED - 1:
            sent_within_the_limit = len(mail.outbox)

    within, over = answers[:ALLOWED], answers[ALLOWED]
    assert [answer.status_code for answer in within if answer.status_code in {429, 500}] == []
    if action.quiet_per_address and kind != "ip":
        assert over.status_code == 200
        assert sent_within_the_limit > 0
        assert len(mail.outbox) == sent_within_the_limit, "an email went out past the limit"
        return
    assert over.status_code == 429
    assert int(over["Retry-After"]) >= 1
    if action.api:
        assert action.refusal in over.json()["error"]
    else:
        assert action.refusal in over.content.decode()
