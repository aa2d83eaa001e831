"""Contacts link themselves by email and move through the pipeline on their own."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from clients import services
from clients.models import ClientsError, Contact, Engagement, Source, Stage, StageChange
from clients.models import TimelineEvent as Event
from coaching.models import User
from tests.clients.factories import book, buy_package, make_contact, stage

pytestmark = pytest.mark.django_db


def test_an_account_becomes_a_contact_in_the_first_stage(candidate: Any) -> None:
    contact = Contact.objects.get(email="candidate@example.com")
    assert contact.user == candidate
    assert contact.source == Source.ACCOUNT
    assert contact.stage == stage(Stage.Role.LEAD)
    assert contact.stage_changes.get().automatic is True
    assert contact.timeline.filter(kind=Event.Kind.ACCOUNT).exists()


def test_the_coach_is_not_a_contact(coach: Any) -> None:
    assert not Contact.objects.filter(email=coach.email).exists()


def test_emails_match_whatever_their_case(candidate: Any) -> None:
    assert services.contact_for(email="  CANDIDATE@Example.com ") == Contact.objects.get()
    assert Contact.objects.count() == 1


def test_the_first_source_sticks() -> None:
    contact = make_contact("lee@example.com")
    assert contact.set_source(Source.REFERRAL, "from Sam") is True
    services.contact_for(email="lee@example.com", source=Source.BOOKING, detail="Discovery")
    contact.refresh_from_db()
    assert (contact.source, contact.source_detail) == (Source.REFERRAL, "from Sam")


def test_booking_a_discovery_call_moves_the_contact_and_shows_on_the_timeline(coach: Any) -> None:
    booking = book(coach, email="new@example.com")
    contact = Contact.objects.get(email="new@example.com")
    assert contact.stage == stage(Stage.Role.DISCOVERY)
    assert contact.source == Source.BOOKING
    assert contact.time_zone == "Europe/London"
    event = contact.timeline.get(kind=Event.Kind.BOOKING)
    assert (event.source_type, event.source_id) == ("bookings.booking", booking.pk)


def test_buying_a_package_opens_an_engagement_and_makes_a_client(candidate: Any) -> None:
    buy_package(candidate, credits=3)
    contact = Contact.objects.get(user=candidate)
    engagement = Engagement.objects.get(contact=contact)
    assert (engagement.credits_total, engagement.credits_left) == (3, 3)
    assert engagement.credit_grant is not None
    assert contact.stage == stage(Stage.Role.CLIENT)
    assert contact.timeline.filter(kind=Event.Kind.PURCHASE).exists()


def test_automation_never_moves_a_client_back_to_discovery(coach: Any, candidate: Any) -> None:
    buy_package(candidate)
    book(coach, email=candidate.email)
    assert Contact.objects.get(user=candidate).stage == stage(Stage.Role.CLIENT)


def test_finishing_the_credits_moves_the_contact_to_completed(coach: Any, candidate: Any) -> None:
    buy_package(candidate, credits=2)
    bookings = [
        book(coach, email=candidate.email, kind="package", hour=10 + i, user=candidate)
        for i in range(2)
    ]
    for booking in bookings:
        booking.mark("completed")
    contact = Contact.objects.get(user=candidate)
    engagement = contact.engagements.get()
    assert (engagement.credits_used, engagement.credits_left) == (2, 0)
    assert engagement.status == Engagement.Status.COMPLETED
    assert contact.stage == stage(Stage.Role.COMPLETED)
    # The store's grant shows the same balance in the client's library.
    assert engagement.credit_grant is not None
    engagement.credit_grant.refresh_from_db()
    assert engagement.credit_grant.used == 2


def test_the_coach_can_override_any_move_and_it_is_recorded(coach: Any, candidate: Any) -> None:
    buy_package(candidate)
    contact = Contact.objects.get(user=candidate)
    services.move_contact(contact=contact, stage=stage(Stage.Role.LEAD), by=coach)
    change = contact.stage_changes.first()
    assert change is not None
    assert (change.by, change.automatic, change.to_stage) == (coach, False, stage("lead"))
    assert change.from_stage == stage(Stage.Role.CLIENT)
    assert contact.timeline.filter(kind=Event.Kind.STAGE, source_id=change.pk).exists()


def test_a_move_to_a_lost_stage_needs_a_reason(coach: Any) -> None:
    contact = make_contact()
    lost = stage(name="Lost")
    with pytest.raises(ClientsError, match="needs a reason"):
        contact.move_to(lost, by=coach)
    contact.refresh_from_db()
    assert contact.stage == stage("lead")
    contact.move_to(lost, by=coach, reason="Went with another coach")
    contact.refresh_from_db()
    assert contact.lost_reason == "Went with another coach"
    assert StageChange.objects.filter(contact=contact, to_stage=lost).count() == 1


def test_stages_are_data_the_coach_renames_without_breaking_automation(coach: Any) -> None:
    discovery = stage(Stage.Role.DISCOVERY)
    discovery.name = "Intro call on the calendar"
    discovery.save()
    book(coach, email="renamed@example.com")
    assert Contact.objects.get(email="renamed@example.com").stage == discovery


def test_a_confirmed_subscriber_becomes_a_contact_with_the_newsletter_as_source() -> None:
    from newsletter.models import Subscriber

    subscriber = Subscriber.objects.create(
        email="Reader@Example.com", consent_source="guide footer"
    )
    assert not Contact.objects.filter(email="reader@example.com").exists()
    subscriber.confirm()
    contact = Contact.objects.get(email="reader@example.com")
    assert (contact.source, contact.source_detail) == (Source.NEWSLETTER, "guide footer")
    assert contact.timeline.filter(kind=Event.Kind.SUBSCRIBED).exists()


def test_a_signed_in_guide_read_lands_on_the_timeline(candidate: Any) -> None:
    from guides.models import Category, Guide, GuideView

    category = Category.objects.create(name="Interviews", slug="interviews")
    guide = Guide.objects.create(
        title="The loop", slug="the-loop", summary="s", body="b", category=category,
        status="published", published_at=timezone.now(),
    )  # fmt: skip
    GuideView.objects.create(guide=guide, user=candidate)
    contact = Contact.objects.get(user=candidate)
    assert contact.timeline.get(kind=Event.Kind.GUIDE_VIEW).title == "Read “The loop”"


def test_a_fault_in_a_receiver_never_breaks_the_other_app_and_the_coach_sees_it(
    monkeypatch: Any, coach_client: Any
) -> None:
    from clients import receivers
    from coaching.models import HookFailure

    receivers.RAISE_ERRORS = False

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "contact_for", broken)
    user = User.objects.create_user("robust@example.com", "pw")
    assert User.objects.filter(pk=user.pk).exists()
    assert not Contact.objects.filter(email="robust@example.com").exists()
    failure = HookFailure.objects.get()
    assert failure.hook == "clients.receivers.on_user"
    assert "robust@example.com" in failure.target and "RuntimeError: boom" in failure.error
    listing = coach_client.get("/admin/coaching/hookfailure/").content.decode()
    assert "clients.receivers.on_user" in listing


def test_a_clients_receiver_connects_with_debug_on(settings):
    from django.db.models.signals import post_save

    from clients import receivers

    settings.DEBUG = True  # Django checks a receiver's signature only then
    receiver = receivers.safely(receivers.on_user)
    post_save.connect(receiver, weak=False, dispatch_uid="test-debug-connect")
    assert post_save.disconnect(dispatch_uid="test-debug-connect")


def test_an_order_shows_once_as_bought_then_as_refunded_and_fulfilment_writes_nothing(
    candidate: Any, django_assert_num_queries: Any
) -> None:
    order = buy_package(candidate)
    contact = Contact.objects.get(user=candidate)
    purchase = contact.timeline.get(kind=Event.Kind.PURCHASE)
    assert purchase.title == "Bought Three sessions" and purchase.source_id == order.pk
    order.fulfilled_at = None
    with django_assert_num_queries(1):  # the order's own UPDATE: no timeline work
        order.mark_fulfilled()
    order.record_refunded_total(15000)
    order.record_refunded_total(45000)
    refund = contact.timeline.get(kind=Event.Kind.REFUND)
    assert refund.title == f"Refunded £450.00 of order {order.number}"
    assert contact.timeline.filter(source_id=order.pk, kind=Event.Kind.PURCHASE).count() == 1


def test_a_buyer_whose_first_act_was_a_purchase_gets_the_purchase_source(db: Any) -> None:
    """A guest checkout makes the account before the paid order is reported."""
    from datetime import timedelta

    import time_machine
    from django.db import transaction

    from store.models import Order

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        order = Order.objects.create(email="buyer@example.com", subtotal=900, total=900)
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        user = User.objects.create_user(email="buyer@example.com", password=None)
        assert Contact.objects.get(email="buyer@example.com").source == Source.ACCOUNT
        order.user = user
        order.save(update_fields=["user"])
        with transaction.atomic():
            order.mark_paid(payment_intent="pi_first_act")
    contact = Contact.objects.get(email="buyer@example.com")
    assert contact.source == Source.PURCHASE
    assert contact.created_at == order.created_at


def test_a_later_act_does_not_rewrite_the_source(candidate: Any) -> None:
    contact = Contact.objects.get(user=candidate)
    buy_package(candidate)
    contact.refresh_from_db()
    assert contact.source == Source.ACCOUNT
