"""The coach writes rules in the admin and sees who a rule would reach today."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from automations.models import Rule, Run
from automations.services import dry_run
from tests.automations.factories import make_rule, past_discovery_call
from tests.clients.factories import buy_package

pytestmark = pytest.mark.django_db
T = Rule.Trigger


def test_the_dry_run_shows_who_today_and_writes_nothing(coach: Any, candidate: Any) -> None:
    rule = make_rule(T.DISCOVERY_NO_PURCHASE, condition={"not_bought": "any"})
    past_discovery_call(coach, "quiet@example.com", days_ago=10)
    past_discovery_call(coach, "buyer@example.com", days_ago=10, hour=11)
    past_discovery_call(coach, "recent@example.com", days_ago=-3, hour=12)  # not 7 days yet
    Run.objects.all().delete()
    from coaching.models import User

    buyer = User.objects.create_user("buyer@example.com", "x" * 16)
    buy_package(buyer)  # bought since the call: the trigger does not hold
    rows = dry_run(rule=rule)
    assert [(row.contact.email, row.matches, row.affected_today) for row in rows] == [
        ("quiet@example.com", True, True)
    ]
    assert not Run.objects.exists()


def test_the_dry_run_tells_matching_from_not_and_done_from_new(coach: Any) -> None:
    rule = make_rule(T.DISCOVERY_NO_PURCHASE, condition={"stage": "lead"})
    past_discovery_call(coach, "quiet@example.com", days_ago=10)
    rows = dry_run(rule=rule)
    # Booking a discovery call moved the contact past "lead": found, but not matching.
    assert [(row.contact.email, row.matches, row.run) for row in rows] == [
        ("quiet@example.com", False, None)
    ]


def test_rule_pages_render_for_the_coach(coach_client: Any, coach: Any, candidate: Any) -> None:
    rule = make_rule(T.PURCHASE, action=Rule.Action.EMAIL, email_subject="Hi", email_body="Hello")
    buy_package(candidate)
    run = Run.objects.get()
    pages = [
        reverse("admin:automations_rule_changelist"),
        reverse("admin:automations_rule_add"),
        reverse("admin:automations_rule_change", args=[rule.pk]),
        reverse("admin:automations_rule_dry_run", args=[rule.pk]),
        reverse("admin:automations_run_changelist"),
        reverse("admin:automations_run_change", args=[run.pk]),
        reverse("admin:clients_contact_change", args=[run.contact_id]),
    ]
    for url in pages:
        assert coach_client.get(url).status_code == 200, url
    page = coach_client.get(reverse("admin:automations_rule_dry_run", args=[rule.pk]))
    assert b'data-row="candidate@example.com"' in page.content
    assert b"Nothing is sent or changed" in page.content


def test_a_rule_saved_without_what_its_action_needs_is_a_form_error(coach_client: Any) -> None:
    response = coach_client.post(
        reverse("admin:automations_rule_add"),
        {
            "name": "Thank buyers",
            "is_active": "on",
            "trigger": T.PURCHASE,
            "active_since_0": "2026-01-01",
            "active_since_1": "09:00",
            "delay_hours": "0",
            "condition": "{}",
            "action": Rule.Action.EMAIL,
            "task_due_days": "0",
        },
    )
    assert response.status_code == 200
    assert not Rule.objects.exists()
    assert b"Needed for this action." in response.content


def test_a_rule_is_saved_from_the_admin(coach_client: Any) -> None:
    response = coach_client.post(
        reverse("admin:automations_rule_add"),
        {
            "name": "Thank buyers",
            "is_active": "on",
            "trigger": T.PURCHASE,
            "active_since_0": "2026-01-01",
            "active_since_1": "09:00",
            "delay_hours": "24",
            "local_hour": "9",
            "condition": '{"not_stage": "completed"}',
            "action": Rule.Action.TASK,
            "task_title": "Call them",
            "task_due_days": "1",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    rule = Rule.objects.get()
    assert (rule.delay_hours, rule.local_hour, rule.condition) == (
        24,
        9,
        {"not_stage": "completed"},
    )


def test_a_condition_naming_an_unknown_filter_is_a_form_error(coach_client: Any) -> None:
    response = coach_client.post(
        reverse("admin:automations_rule_add"),
        {
            "name": "Typo",
            "trigger": T.OFFER,
            "active_since_0": "2026-01-01",
            "active_since_1": "09:00",
            "delay_hours": "0",
            "condition": '{"not_boguht": "any"}',
            "action": Rule.Action.TASK,
            "task_title": "Call",
            "task_due_days": "0",
        },
    )
    assert response.status_code == 200
    assert b"Unknown filter: not_boguht." in response.content
    assert not Rule.objects.exists()
