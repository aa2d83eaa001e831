"""Only staff reach the workspace; a client sees their own portal data and nothing else."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from clients.models import Contact, Note, Outcome
from tests.clients.factories import book, make_engagement

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking(coach: Any, candidate: Any) -> Any:
    return book(coach, email=candidate.email, user=candidate)


def workspace_urls(contact: Contact, booking: Any) -> list[str]:
    return [
        reverse("admin:index"),
        reverse("admin:clients_contact_board"),
        reverse("admin:clients_contact_changelist"),
        reverse("admin:clients_contact_change", args=[contact.pk]),
        reverse("admin:clients_contact_brief", args=[booking.pk]),
        reverse("admin:clients_contact_import"),
        *(reverse("admin:clients_contact_export", args=[n]) for n in
          ["contacts", "orders", "subscribers"]),
    ]  # fmt: skip


def test_only_staff_reach_the_workspace(
    client: Client, coach_client: Client, candidate: Any, booking: Any
) -> None:
    contact = Contact.objects.get(user=candidate)
    urls = workspace_urls(contact, booking)
    for url in urls:
        assert coach_client.get(url).status_code == 200, url
    coach_client.logout()
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"]
    client.force_login(candidate)
    for url in urls:
        # As every admin page: a non-staff person is sent to the admin's sign-in.
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url


def test_workspace_posts_are_refused_to_a_client(client: Client, candidate: Any) -> None:
    contact = Contact.objects.get(user=candidate)
    client.force_login(candidate)
    response = client.post(
        reverse("admin:clients_contact_note", args=[contact.pk]), {"body": "I am the coach now"}
    )
    assert response.status_code == 302
    assert not Note.objects.exists()


def test_a_client_sees_only_their_own_portal(
    client: Client, candidate: Any, stranger: Any, booking: Any
) -> None:
    mine = Contact.objects.get(user=candidate)
    theirs = Contact.objects.get(user=stranger)
    Note.objects.create(contact=mine, body="Shared with Casey", is_shared=True)
    Note.objects.create(contact=mine, body="Private about Casey", is_shared=False)
    Note.objects.create(contact=theirs, body="Shared with Sam", is_shared=True)
    Outcome.objects.create(contact=mine, kind="offer", company="Acme AI", role="ML engineer")
    Outcome.objects.create(contact=theirs, kind="offer", company="Other Co", role="Researcher")
    make_engagement(mine, total=5, title="Five sessions")
    make_engagement(theirs, total=9, title="Nine sessions")

    client.force_login(candidate)
    page = client.get("/portal/").content.decode()
    assert "Shared with Casey" in page and "Acme AI" in page and "Five sessions" in page
    assert "/library/" in page
    assert booking.event_type.name in page  # the upcoming session
    for secret in ["Private about Casey", "Shared with Sam", "Other Co", "Nine sessions"]:
        assert secret not in page


def test_object_urls_answer_404_to_another_client_and_to_anonymous_visitors(
    client: Client, candidate: Any, stranger: Any
) -> None:
    mine = Contact.objects.get(user=candidate)
    shared = Note.objects.create(contact=mine, body="For Casey", is_shared=True)
    private = Note.objects.create(contact=mine, body="Coach only", is_shared=False)
    engagement = make_engagement(mine, total=3)
    own_urls = [f"/portal/notes/{shared.pk}/", f"/portal/packages/{engagement.pk}/"]

    client.force_login(candidate)
    for url in own_urls:
        assert client.get(url).status_code == 200, url
    assert client.get(f"/portal/notes/{private.pk}/").status_code == 404

    client.force_login(stranger)
    for url in [*own_urls, f"/portal/notes/{private.pk}/"]:
        assert client.get(url).status_code == 404, url

    client.logout()
    for url in [*own_urls, f"/portal/notes/{private.pk}/"]:
        assert client.get(url).status_code == 404, url
    assert client.get("/portal/").status_code == 302


def test_the_portal_works_for_someone_who_is_not_a_contact_yet(client: Client, coach: Any) -> None:
    client.force_login(coach)
    assert client.get("/portal/").status_code == 200
