"""A run waits, checks again when due, acts once, and shows on the contact's timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from automations import services
from automations.models import Rule, Run
from clients.models import Stage, TimelineEvent
from coaching.models import OutboundEmail
from newsletter.models import MailingList, Subscriber, Subscription
from tests.automations.factories import inactive_subscriber, make_rule, past_discovery_call
from tests.clients.factories import book, buy_package, make_contact, stage

pytestmark = pytest.mark.django_db
T, A = Rule.Trigger, Rule.Action


def _email_rule(trigger: str, **fields: Any) -> Rule:
    return make_rule(
        trigger,
        action=A.EMAIL,
        email_subject="Checking in",
        email_body="How did the **interviews** go?",
        **fields,
    )


def test_an_email_step_goes_through_the_outbox_once(coach: Any) -> None:
    rule = _email_rule(T.DISCOVERY_NO_PURCHASE)
    past_discovery_call(coach, "quiet@example.com", days_ago=10)
    services.scan()
    (run,) = Run.objects.filter(rule=rule)
    assert services.run_one(run_id=run.pk) == "done"
    assert services.run_one(run_id=run.pk) == ""  # a second worker finds nothing to do
    email = OutboundEmail.objects.get(template="automations-follow-up")
    assert (email.to, email.subject, email.key) == (
        "quiet@example.com",
        "Checking in",
        f"automation-run:{run.pk}",
    )
    assert "<strong>interviews</strong>" in email.body_html
    assert "Hello Casey" in email.body_text


def test_the_condition_is_checked_again_when_the_step_is_due(coach: Any, candidate: Any) -> None:
    rule = _email_rule(T.NO_SHOW, delay_hours=24, condition={"not_bought": "any"})
    booking = book(coach, email="candidate@example.com")
    booking.mark("no_show")
    run = Run.objects.get(rule=rule)
    assert run.due_at == run.occurred_at + dt.timedelta(hours=24)
    assert services.run_due() == {"done": 0, "skipped": 0, "failed": 0, "retry": 0}
    buy_package(candidate)  # between the trigger and the step: no longer "has not bought"
    services.run_due(now=run.due_at + dt.timedelta(minutes=1))
    run.refresh_from_db()
    assert run.status == Run.Status.SKIPPED
    assert "condition" in run.outcome
    assert not OutboundEmail.objects.filter(template="automations-follow-up").exists()


def test_a_trigger_that_no_longer_holds_skips_the_step(coach: Any) -> None:
    rule = _email_rule(T.INACTIVE, delay_hours=48)
    subscriber = inactive_subscriber("sleepy@example.com", days=95)
    make_contact("sleepy@example.com")
    services.scan()
    run = Run.objects.get(rule=rule)
    subscriber.mark_engaged()  # clicked a newsletter link before the step was due
    services.run_due(now=run.due_at)
    run.refresh_from_db()
    assert run.status == Run.Status.SKIPPED
    assert "no longer holds" in run.outcome


def test_a_step_waits_for_the_local_hour_in_the_persons_zone(coach: Any) -> None:
    rule = make_rule(T.OFFER, delay_hours=2, local_hour=9)
    contact = make_contact("tokyo@example.com", time_zone="Asia/Tokyo")
    from clients.models import Outcome

    Outcome.objects.create(contact=contact, kind=Outcome.Kind.OFFER)
    run = Run.objects.get(rule=rule)
    local = run.due_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    assert (local.hour, local.minute) == (9, 0)
    assert run.occurred_at + dt.timedelta(hours=2) <= run.due_at
    assert run.due_at - (run.occurred_at + dt.timedelta(hours=2)) < dt.timedelta(days=1)


def test_a_run_shows_on_the_contacts_timeline(coach: Any) -> None:
    make_rule(T.OFFER, action=A.STAGE, stage=stage(Stage.Role.COMPLETED), name="Offer: done")
    contact = make_contact("hired@example.com")
    from clients.models import Outcome

    Outcome.objects.create(contact=contact, kind=Outcome.Kind.OFFER)
    services.run_due()
    contact.refresh_from_db()
    assert contact.stage == stage(Stage.Role.COMPLETED)
    event = contact.timeline.get(kind=TimelineEvent.Kind.AUTOMATION)
    assert event.title == "Follow-up “Offer: done”: done"
    assert event.detail == f"Moved to “{contact.stage.name}”."


def test_list_steps_add_only_confirmed_subscribers_and_remove_them(coach: Any) -> None:
    vip = MailingList.objects.create(name="Alumni", slug="alumni", is_public=False)
    make_rule(T.OFFER, action=A.LIST_ADD, mailing_list=vip)
    from clients.models import Outcome

    now = timezone.now()
    subscriber = Subscriber.objects.create(
        email="hired@example.com", status="confirmed", confirmed_at=now, consent_at=now
    )
    hired, unknown = make_contact("hired@example.com"), make_contact("nobody@example.com")
    Outcome.objects.create(contact=hired, kind=Outcome.Kind.OFFER)
    Outcome.objects.create(contact=unknown, kind=Outcome.Kind.OFFER)
    assert services.run_due() == {"done": 1, "skipped": 1, "failed": 0, "retry": 0}
    assert Subscription.objects.get(subscriber=subscriber, mailing_list=vip).status == "subscribed"
    assert Run.objects.get(contact=unknown).outcome.startswith("Not a confirmed subscriber")
    make_rule(T.OFFER, action=A.LIST_REMOVE, mailing_list=vip)
    services.scan()
    services.run_due()
    assert Subscription.objects.get(subscriber=subscriber).status == "unsubscribed"


def test_an_action_that_fails_is_retried_then_marked_failed(
    coach: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_rule(T.OFFER)
    from clients.models import Outcome

    Outcome.objects.create(contact=make_contact("hired@example.com"), kind=Outcome.Kind.OFFER)

    def broken(run: Run, now: dt.datetime) -> tuple[str, str]:
        raise RuntimeError("mail server on fire")

    monkeypatch.setitem(services.ACTIONS, A.TASK, broken)
    later = timezone.now()
    for _ in range(services.MAX_ATTEMPTS):
        services.run_due(now=later)
        later += dt.timedelta(minutes=services.RETRY_MINUTES + 1)
    run = Run.objects.get()
    assert (run.status, run.attempts) == (Run.Status.FAILED, services.MAX_ATTEMPTS)
    assert "mail server on fire" in run.outcome
