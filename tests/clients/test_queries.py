"""The list, the board and a contact's page use as many queries for 50 rows as for 5."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Contact, Note, Pipeline, Task, TimelineEvent
from tests.clients.factories import make_contact, make_engagement

pytestmark = pytest.mark.django_db


def add_contacts(n: int) -> list[Contact]:
    stages = list(Pipeline.objects.default().stages.all())
    contacts = []
    for i in range(n):
        contact = make_contact(company="Acme")
        contact.move_to(stages[i % len(stages)], reason="spread")
        Task.objects.create(contact=contact, title="Follow up", due_on=timezone.localdate())
        contacts.append(contact)
    return contacts


def add_history(contact: Contact, n: int) -> None:
    now = timezone.now()
    TimelineEvent.objects.bulk_create(
        TimelineEvent(contact=contact, kind="note", occurred_at=now - timedelta(hours=i),
                      title=f"Event {i}", source_type=f"test.{contact.pk}", source_id=i)
        for i in range(n)
    )  # fmt: skip
    Note.objects.bulk_create(Note(contact=contact, body=f"Note {i}") for i in range(min(n, 40)))
    engagement = make_engagement(contact, total=5)
    for _ in range(min(n // 10, 4)):
        engagement.use_credit(reason="session")


def count(client: Client, url: str) -> int:
    client.get(url)  # warm caches (content types) so both counts start alike
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def test_the_contact_list_and_the_board_do_not_grow_with_contacts(coach_client: Client) -> None:
    urls = [
        reverse("admin:clients_contact_changelist"),
        reverse("admin:clients_contact_changelist") + "?open_tasks=yes&q=acme",
        reverse("admin:clients_contact_board"),
    ]
    add_contacts(5)
    few = [count(coach_client, url) for url in urls]
    add_contacts(45)
    many = [count(coach_client, url) for url in urls]
    assert few == many


def test_a_contact_page_does_not_grow_with_its_history(coach_client: Client, coach: Any) -> None:
    short, long = make_contact("short@example.com"), make_contact("long@example.com")
    add_history(short, 5)
    add_history(long, 50)
    page = reverse("admin:clients_contact_change", args=[short.pk])
    few = count(coach_client, page)
    many = count(coach_client, reverse("admin:clients_contact_change", args=[long.pk]))
    assert few == many
    body = coach_client.get(reverse("admin:clients_contact_change", args=[long.pk])).content
    assert b"Event 0" in body and b"Event 30" not in body  # paginated: 25 a page
    assert (
        b"Event 30"
        in coach_client.get(
            reverse("admin:clients_contact_change", args=[long.pk]) + "?tl=2"
        ).content
    )
