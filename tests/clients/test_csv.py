"""CSV out, streamed; CSV in, checked row by row and written all or nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from clients.models import Contact, Stage, StageChange
from tests.clients.factories import buy_package, make_contact, stage

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/clients/contact/import/"


def rows_of(response: Any) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def upload(client: Client, text: str, *, dry_run: bool) -> Any:
    data: dict[str, Any] = {"file": SimpleUploadedFile("contacts.csv", text.encode())}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(IMPORT_URL, data)


def test_contacts_orders_and_subscribers_export_as_streamed_csv(
    coach_client: Client, candidate: Any
) -> None:
    from newsletter.models import Subscriber

    make_contact("=cmd@example.com", name="=HYPERLINK(evil)")
    buy_package(candidate)
    Subscriber.objects.create(email="reader@example.com", name="Reader")
    contacts = coach_client.get(reverse("admin:clients_contact_export", args=["contacts"]))
    assert contacts.streaming and contacts["Content-Type"].startswith("text/csv")
    table = rows_of(contacts)
    assert table[0][:3] == ["email", "name", "time_zone"]
    names = {row[1] for row in table[1:]}
    assert "'=HYPERLINK(evil)" in names  # not run as a formula by a spreadsheet
    orders = rows_of(coach_client.get(reverse("admin:clients_contact_export", args=["orders"])))
    assert orders[1][1] == candidate.email and orders[1][8] == "Three sessions"
    subs = rows_of(coach_client.get(reverse("admin:clients_contact_export", args=["subscribers"])))
    assert subs[1][0] == "reader@example.com"
    assert coach_client.get("/admin/clients/contact/export/passwords.csv").status_code == 404


def test_a_dry_run_reports_what_would_change_and_writes_nothing(coach_client: Client) -> None:
    make_contact("known@example.com", name="Old Name")
    text = (
        "email,name,time_zone,source,stage\n"
        "new@example.com,New Person,Europe/Paris,referral,Discovery call booked\n"
        "KNOWN@example.com,New Name,,,\n"
        "known2@example.com,,,,\n"
    )
    before = (Contact.objects.count(), StageChange.objects.count())
    response = upload(coach_client, text, dry_run=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dry run: nothing was written" in page
    assert "2 new, 1 updated, 0 unchanged" in page
    assert "name: “Old Name” → “New Name”" in page
    assert (Contact.objects.count(), StageChange.objects.count()) == before
    assert Contact.objects.get(email="known@example.com").name == "Old Name"


def test_one_bad_row_rejects_the_file_with_row_numbers_and_writes_nothing(
    coach_client: Client,
) -> None:
    text = (
        "email,name,time_zone,source,stage\n"
        "good@example.com,Good,,,\n"
        "not-an-email,Bad,,,\n"
        "tz@example.com,Bad zone,Mars/Olympus,,\n"
        "good@example.com,Again,,,\n"
        "src@example.com,,,carrier pigeon,\n"
        "lost@example.com,,,,Lost\n"
        "stage@example.com,,,,Nowhere\n"
    )
    response = upload(coach_client, text, dry_run=False)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Rejected: nothing was written" in page
    for row, reason in [
        (3, "is not an email address"),
        (4, "is not a time zone"),
        (5, "already on row 2"),
        (6, "is not one of"),
        (7, "needs a lost_reason"),
        (8, "no stage “Nowhere”"),
    ]:
        assert f'<td>{row}</td><td class="cl-error">' in page, row
        assert reason in page
    assert not Contact.objects.filter(email="good@example.com").exists()


def test_a_clean_file_is_imported_in_one_go(coach_client: Client, coach: Any) -> None:
    text = (
        "email,name,company,source,source_detail,pipeline,stage,lost_reason\n"
        "a@example.com,Ann,Acme,referral,from Bo,Company workshops,Scoping call,\n"
        "b@example.com,Bea,,,,,Lost,Chose a bootcamp\n"
    )
    response = upload(coach_client, text, dry_run=False)
    assert response.status_code == 200
    ann = Contact.objects.get(email="a@example.com")
    assert (ann.name, ann.company, ann.source, ann.source_detail) == (
        "Ann", "Acme", "referral", "from Bo",
    )  # fmt: skip
    assert ann.stage is not None and ann.stage.name == "Scoping call"
    assert ann.pipeline is not None and ann.pipeline.name == "Company workshops"
    bea = Contact.objects.get(email="b@example.com")
    assert (bea.source, bea.lost_reason) == ("import", "Chose a bootcamp")
    assert bea.stage == stage(name="Lost")
    assert bea.stage_changes.filter(by=coach).exists()
    assert stage(Stage.Role.LEAD).contacts.count() == 0


def test_a_file_that_is_not_csv_text_is_refused_clearly(coach_client: Client) -> None:
    response = coach_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("x.csv", b"\xff\xfe\x00binary")}
    )
    assert response.status_code == 400
    assert "not UTF-8" in response.content.decode()


def test_a_file_with_nul_bytes_is_refused_without_a_server_error(coach_client: Client) -> None:
    response = coach_client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("x.csv", b"email,name\nnul\x00@example.com,x\n")}
    )
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    assert not Contact.objects.exists()
