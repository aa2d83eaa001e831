"""A small world of objects owned by `candidate`, for the access matrix and bad-input tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone


@pytest.fixture(autouse=True)
def _private_media_and_simulated_stripe(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_secret"


@dataclass
class World:
    """What `candidate` owns, and the ids the URLs need."""

    paid_guide: Any
    product: Any
    order: Any
    entitlement: Any
    product_file: Any
    booking: Any
    booking_token: str
    subscriber: Any
    subscriber_token: str
    event_type: Any
    urls: dict[str, str] = field(default_factory=dict)


def committed() -> Any:
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


@pytest.fixture
def world(db: None, client: Any, coach: Any, candidate: Any) -> World:
    from bookings import services as bookings
    from bookings.tokens import manage_token
    from coaching.models import CoachProfile
    from comments.models import Comment
    from guides.models import Category, Guide
    from newsletter.models import MailingList, Subscriber, Subscription
    from newsletter.tokens import subscriber_token
    from store.models import Entitlement
    from tests.bookings.factories import london, make_event_type, next_weekday
    from tests.store.conftest import post_event, session_completed, start_order
    from tests.store.factories import ProductFactory, add_pdf

    CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip
    category = Category.objects.create(name="Interviews", slug="interviews")
    paid_guide = Guide.objects.create(
        title="The paid loop",
        slug="the-paid-loop",
        summary="Inside the loop.",
        body="Public opening.\n\n<!-- more -->\n\nSECRET PAID PARAGRAPH about the loop.",
        category=category,
        visibility="paid",
        status="published",
        published_at=timezone.now() - timedelta(days=1),
    )
    product = ProductFactory(slug="study-guide", title="Study guide", price=2900)
    product.guides.add(paid_guide)
    add_pdf(product)
    order = start_order(product, email=candidate.email, user=candidate)
    post_event(client, session_completed(order))
    order.refresh_from_db()
    assert order.paid_at is not None
    event_type = make_event_type(coach)
    with committed():
        booking = bookings.book_slot(
            event_type=event_type,
            start=london(next_weekday(), 10),
            name="Casey Candidate",
            email=candidate.email,
            time_zone="Europe/London",
            answers={"goal": "A first job in ML"},
            user=candidate,
        )
    weekly = MailingList.objects.create(name="Weekly", slug="weekly", is_default=True)
    subscriber = Subscriber.objects.create(
        email=candidate.email, email_lower=candidate.email, status="confirmed",
        confirmed_at=timezone.now(), consent_at=timezone.now(), consent_text="test",
    )  # fmt: skip
    Subscription.objects.create(subscriber=subscriber, mailing_list=weekly)
    Comment.objects.create(
        guide=paid_guide, author=candidate, status="visible", body="COMMENT QUOTING the loop"
    )
    return World(
        paid_guide=paid_guide,
        product=product,
        order=order,
        entitlement=Entitlement.objects.get(order=order),
        product_file=product.files.get(),
        booking=booking,
        booking_token=manage_token(booking),
        subscriber=subscriber,
        subscriber_token=subscriber_token(subscriber.pk),
        event_type=event_type,
    )


def make_staff(email: str, role: str) -> Any:
    """A staff member (not a superuser) in one of the groups of coaching/roles.py, with
    TOTP set up as the admin requires."""
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.models import Group

    from coaching.roles import sync_roles
    from tests.conftest import TOTP_SECRET, make_user

    sync_roles()  # migrate did it already; this keeps the fixture honest on its own
    user = make_user(email, name=f"{role} on the team")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name=role))
    TOTP.activate(user, TOTP_SECRET)
    return user


@pytest.fixture
def team_coach(db: None) -> Any:
    """A second coach: staff in the "Coach" group, not a superuser."""
    return make_staff("teamcoach@example.com", "Coach")


@pytest.fixture
def assistant(db: None) -> Any:
    """Staff in the "Assistant" group: calendar and client records, no money, no exports."""
    return make_staff("assistant@example.com", "Assistant")
