"""The public contact form: a message becomes a contact, a task and an email to the coach;
scripts are turned away quietly and floods answer 429."""

from __future__ import annotations

import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from clients.forms import contact_form_token
from clients.models import Contact, Note, Source, Task, TimelineEvent

pytestmark = pytest.mark.django_db


def shown_a_minute_ago() -> str:
    with time_machine.travel(timezone.now() - timezone.timedelta(minutes=1)):
        return contact_form_token()


def message(**overrides: Any) -> dict[str, str]:
    return {
        "name": "Robin Reader",
        "email": "Robin@Example.com",
        "topic": "speaking",
        "message": "Could you give a talk at our meetup in May?",
        "website": "",
        "started": shown_a_minute_ago(),
        **overrides,
    }


def test_the_contact_page_has_a_labelled_field_for_everything_it_asks(client: Any) -> None:
    html = client.get("/contact/").content.decode()
    for field in ["name", "email", "topic", "message"]:
        assert f'<label for="id_{field}">' in html
    assert 'name="started"' in html
    assert client.get("/contact/")["Cache-Control"].startswith("max-age=0")


def test_a_message_creates_the_contact_a_task_and_emails_the_coach(
    client: Any, coach: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/contact/", message())
    assert response.status_code == 302
    assert response["Location"] == "/contact/thanks/"
    contact = Contact.objects.get(email="robin@example.com")
    assert contact.name == "Robin Reader"
    assert contact.source == Source.CONTACT_FORM
    assert "give a talk" in Note.objects.get(contact=contact).body
    task = Task.objects.get(contact=contact)
    assert task.title == "Reply to Robin Reader (Speaking or a podcast)"
    assert task.due_on == timezone.localdate() + timezone.timedelta(days=1)
    kinds = set(TimelineEvent.objects.filter(contact=contact).values_list("kind", flat=True))
    assert {"note", "task"} <= kinds
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [coach.email]
    assert "Robin Reader" in sent.subject
    assert "give a talk" in sent.body
    assert sent.extra_headers["Reply-To"] == "robin@example.com"
    thanks = client.get("/contact/thanks/").content.decode()
    assert "Thank you" in thanks


def test_a_known_contact_is_updated_not_duplicated(client: Any, coach: Any) -> None:
    Contact.objects.create(email="robin@example.com", source=Source.NEWSLETTER)
    client.post("/contact/", message())
    contact = Contact.objects.get(email="robin@example.com")
    assert contact.name == "Robin Reader"
    assert contact.source == Source.NEWSLETTER  # the first source sticks
    assert Task.objects.filter(contact=contact).count() == 1


def test_a_filled_honeypot_is_thanked_and_nothing_is_recorded(client: Any, coach: Any) -> None:
    response = client.post("/contact/", message(website="http://spam.example.com"))
    assert response.status_code == 302
    assert not Contact.objects.exists()
    assert len(mail.outbox) == 0


def test_a_form_sent_back_too_fast_is_thanked_and_nothing_is_recorded(
    client: Any, coach: Any
) -> None:
    response = client.post("/contact/", message(started=contact_form_token()))
    assert response.status_code == 302
    assert not Contact.objects.exists()


def test_a_forged_timestamp_is_thanked_and_nothing_is_recorded(client: Any, coach: Any) -> None:
    response = client.post("/contact/", message(started="1700000000.000:forged"))
    assert response.status_code == 302
    assert not Contact.objects.exists()


def test_mistakes_are_shown_next_to_their_field_and_what_was_typed_is_kept(client: Any) -> None:
    response = client.post("/contact/", message(email="not-an-address", message=""))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'aria-invalid="true" aria-describedby="id_email-error"' in html
    assert 'id="id_message-error"' in html
    assert 'value="Robin Reader"' in html
    assert not Contact.objects.exists()


def test_many_messages_from_one_address_answer_429(client: Any, coach: Any) -> None:
    for n in range(3):
        response = client.post("/contact/", message(), REMOTE_ADDR=f"10.0.0.{n}")
        assert response.status_code == 302
    response = client.post("/contact/", message(), REMOTE_ADDR="10.0.0.9")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Task.objects.count() == 3


def test_many_messages_from_one_ip_answer_429(client: Any, coach: Any) -> None:
    for n in range(6):
        data = message(email=f"person{n}@example.com")
        assert client.post("/contact/", data).status_code == 302
    assert client.post("/contact/", message(email="seventh@example.com")).status_code == 429


def test_a_person_who_fixes_a_mistake_quickly_is_not_taken_for_a_script(
    client: Any, coach: Any
) -> None:
    first = client.post("/contact/", message(email="robin@"))
    token = re.search(r'name="started" value="([^"]+)"', first.content.decode())[1]
    assert client.post("/contact/", message(started=token)).status_code == 302
    assert Contact.objects.filter(email="robin@example.com").exists()


def test_a_form_left_open_for_days_asks_to_be_sent_again_with_a_fresh_token(
    client: Any,
) -> None:
    with time_machine.travel(timezone.now() - timezone.timedelta(days=3)):
        old = contact_form_token()
    response = client.post("/contact/", message(started=old))
    html = response.content.decode()
    assert response.status_code == 200
    assert "please send it again" in html
    assert f'value="{old}"' not in html
    assert not Contact.objects.exists()
