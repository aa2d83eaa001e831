"""The contact page's forms: move, notes, follow-ups, outcomes, credits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clients.models import Contact, Note, Outcome, Session, Stage, Task
from tests.clients.factories import make_contact, make_engagement, stage

pytestmark = pytest.mark.django_db


def url(name: str, *args: Any) -> str:
    return reverse(f"admin:clients_contact_{name}", args=args)


def test_a_board_move_answers_json_and_is_recorded(coach_client: Client, coach: Any) -> None:
    contact = make_contact()
    target = stage(Stage.Role.DISCOVERY)
    response = coach_client.post(
        url("move", contact.pk), {"stage": target.pk}, headers={"X-Requested-With": "fetch"}
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True, "stage": target.pk, "name": target.name}
    assert contact.stage_changes.first().by == coach  # type: ignore[union-attr]


def test_a_move_to_lost_without_a_reason_is_a_400_with_a_message(coach_client: Client) -> None:
    contact = make_contact()
    response = coach_client.post(
        url("move", contact.pk), {"stage": stage(name="Lost").pk},
        headers={"X-Requested-With": "fetch"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "needs a reason" in response.json()["error"]
    bad = coach_client.post(url("move", contact.pk), {"stage": "nope"},
                            headers={"X-Requested-With": "fetch"})  # fmt: skip
    assert bad.status_code == 400
    assert Contact.objects.get(pk=contact.pk).stage == stage(Stage.Role.LEAD)


def test_the_fallback_move_form_redirects_back_to_the_board(coach_client: Client) -> None:
    contact = make_contact()
    board = url("board")
    response = coach_client.post(
        url("move", contact.pk),
        {"stage": stage(name="Lost").pk, "reason": "No budget", "next": board},
    )
    assert response.status_code == 302 and response["Location"] == board
    contact.refresh_from_db()
    assert contact.lost_reason == "No budget"
    assert coach_client.get(url("move", contact.pk)).status_code == 405


def test_each_board_card_links_to_its_contact_and_offers_a_move_from_its_own_stage(
    coach_client: Client,
) -> None:
    lead, discovery = make_contact("lead@example.com"), make_contact("call@example.com")
    discovery.move_to(stage(Stage.Role.DISCOVERY), by=None, reason="Booked")
    html = coach_client.get(url("board")).content.decode()
    for contact in (lead, discovery):
        card = html.split(f'data-contact="{contact.pk}"', 1)[1].split("</li>", 1)[0]
        assert f'data-move-url="{url("move", contact.pk)}"' in card
        assert f'href="{url("change", contact.pk)}"' in card
        assert f'action="{url("move", contact.pk)}"' in card
        selected = card.split(" selected>", 1)[1].split("<", 1)[0]
        assert selected == contact.stage.name
        assert card.count("<option") == Stage.objects.filter(pipeline=contact.pipeline).count()


def test_notes_tasks_and_outcomes_are_added_from_the_contact_page(
    coach_client: Client, coach: Any
) -> None:
    contact = make_contact()
    coach_client.post(url("note", contact.pk), {"body": "Shared plan", "is_shared": "on"})
    coach_client.post(url("task", contact.pk), {"title": "Chase", "due_on": "2030-01-02"})
    coach_client.post(
        url("outcome", contact.pk),
        {"kind": "offer", "company": "Acme", "role": "MLE", "level": "L5",
         "compensation_band": "£100k", "occurred_on": "2030-01-01"},
    )  # fmt: skip
    note = Note.objects.get(contact=contact)
    assert (note.body, note.is_shared, note.author) == ("Shared plan", True, coach)
    task = Task.objects.get(contact=contact)
    coach_client.post(url("task_done", contact.pk, task.pk))
    task.refresh_from_db()
    assert task.is_done
    assert Outcome.objects.get(contact=contact).compensation_band == "£100k"
    kinds = set(contact.timeline.values_list("kind", flat=True))
    assert {"note", "task", "outcome", "stage"} <= kinds
    page = coach_client.get(url("change", contact.pk)).content.decode()
    assert "Shared plan" in page and "Acme" in page and "Chase" in page


def test_bad_outcome_input_is_a_message_not_an_error(coach_client: Client) -> None:
    contact = make_contact()
    response = coach_client.post(url("outcome", contact.pk), {"kind": "lottery"}, follow=True)
    assert response.status_code == 200
    assert "Could not record the outcome" in response.content.decode()
    assert not Outcome.objects.exists()


def test_the_coach_sets_a_session_outcome_and_gives_a_credit_back(
    coach_client: Client, coach: Any
) -> None:
    contact = make_contact()
    engagement = make_engagement(contact, total=2)
    session = Session.objects.create(contact=contact, engagement=engagement)
    coach_client.post(url("session_outcome", contact.pk, session.pk), {"outcome": "no_show"})
    engagement.refresh_from_db()
    assert engagement.credits_used == 1
    coach_client.post(url("give_back", contact.pk, session.pk), {"reason": ""})
    engagement.refresh_from_db()
    assert engagement.credits_used == 1  # a reason is required
    coach_client.post(url("give_back", contact.pk, session.pk), {"reason": "Ill, told us late"})
    engagement.refresh_from_db()
    assert engagement.credits_used == 0
    assert engagement.adjustments.filter(kind="give_back", by=coach).exists()
    other = make_contact()
    assert coach_client.post(url("give_back", other.pk, session.pk),
                             {"reason": "x"}).status_code == 404  # fmt: skip


def test_adding_a_contact_in_the_admin_places_it_in_the_first_stage(
    coach_client: Client,
) -> None:
    response = coach_client.post(
        reverse("admin:clients_contact_add"),
        {"email": "Added@Example.com", "name": "Ada", "source": "referral"},
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    contact = Contact.objects.get(email="added@example.com")
    assert contact.stage == stage(Stage.Role.LEAD)


def test_the_stage_menu_lists_the_contacts_own_pipeline_first_and_no_two_entries_alike(
    coach_client: Client,
) -> None:
    import re

    from clients.pipelines import create_default_pipelines

    create_default_pipelines()
    contact = make_contact()
    page = coach_client.get(url("change", contact.pk)).content.decode()
    menu = page.split('id="cl-stage"')[1].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]+)"', menu)
    assert groups[0].startswith(contact.stage.pipeline.name)
    options = re.findall(r"<option[^>]*>([^<]+)</option>", menu)
    assert len(options) == len(set(options)) == Stage.objects.count()
    assert "Lost · Company workshops" in options
    workshop = Stage.objects.get(pipeline__name="Company workshops", name="Enquiry")
    contact.move_to(workshop, automatic=True, reason="test")
    page = coach_client.get(url("change", contact.pk)).content.decode()
    menu = page.split('id="cl-stage"')[1].split("</select>")[0]
    assert re.findall(r'<optgroup label="([^"]+)"', menu)[0].startswith("Company workshops")
    assert "<option" in menu and ">Enquiry</option>" in menu


def test_the_contact_timeline_gives_valid_datetimes_without_fractions_of_a_second(
    coach_client: Client,
) -> None:
    contact = make_contact()
    Note.objects.create(contact=contact, body="Called back")

    page = coach_client.get(url("change", contact.pk)).content.decode()

    stamps = re.findall(r'<time[^>]*datetime="([^"]+)"', page)
    assert stamps
    for stamp in stamps:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?([+-]\d{4}|Z)?", stamp), stamp
