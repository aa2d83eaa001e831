"""Moving subscribers in from another tool's export (newsletter/importers.py)."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from newsletter.models import MailingList, Subscriber, Subscription, Suppression
from tests.newsletter.factories import MailingListFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


def run(path: Path, source: str, *extra: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_subscribers", str(path), "--from", source, *extra, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


SUBSTACK = """
email,active_subscription,expiry,plan,email_disabled,created_at
ada@example.com,false,,free,false,2021-03-04T12:34:56.000Z
Grace@Example.com,true,2027-01-01T00:00:00.000Z,paid,false,2022-07-01T08:00:00.000Z
left@example.com,false,,free,true,2020-01-01T00:00:00.000Z
"""


def test_a_substack_export_keeps_each_consent_date_and_sends_nothing(
    weekly: MailingList, tmp_path: Path
) -> None:
    out, err = run(write(tmp_path, SUBSTACK), "substack")

    ada = Subscriber.objects.get(email_lower="ada@example.com")
    assert ada.status == Subscriber.Status.CONFIRMED
    assert ada.consent_at == dt.datetime(2021, 3, 4, 12, 34, 56, tzinfo=dt.UTC)
    assert ada.consent_source == "Substack import"
    assert "Substack" in ada.consent_text
    grace = Subscriber.objects.get(email_lower="grace@example.com")
    assert grace.email == "Grace@Example.com"
    assert grace.consent_at == dt.datetime(2022, 7, 1, 8, tzinfo=dt.UTC)
    assert set(Subscriber.objects.receiving(weekly).values_list("email_lower", flat=True)) == {
        "ada@example.com",
        "grace@example.com",
    }
    assert Suppression.objects.get(email="left@example.com").reason == "unsubscribed"
    assert not Subscriber.objects.filter(email_lower="left@example.com").exists()
    assert mail.outbox == []
    assert "2 added" in out and "1 suppressed" in out and err == ""


def test_running_the_same_import_twice_imports_nothing_new(
    weekly: MailingList, tmp_path: Path
) -> None:
    path = write(tmp_path, SUBSTACK)
    run(path, "substack")

    out, _ = run(path, "substack")

    assert "0 added, 2 already there, 0 suppressed, 1 already suppressed" in out
    assert Subscriber.objects.count() == 2
    assert Subscription.objects.count() == 2
    assert Suppression.objects.count() == 1


def test_a_dry_run_reports_the_counts_and_writes_nothing(
    weekly: MailingList, tmp_path: Path
) -> None:
    out, _ = run(write(tmp_path, SUBSTACK), "substack", "--dry-run")

    assert out.startswith("would import: 2 added, 0 already there, 1 suppressed")
    assert Subscriber.objects.count() == 0
    assert Suppression.objects.count() == 0


def test_bad_rows_are_reported_by_row_number_and_the_good_rows_still_go_in(
    weekly: MailingList, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        """
email,name,consent_date,source
good@example.com,Good,2023-05-06,webinar
not-an-address,Bad,2023-05-06,webinar
late@example.com,Late,the sixth of May,webinar
also@example.com,,,
""",
    )

    out, err = run(path, "csv")

    assert "row 3: not an email address: 'not-an-address'" in err
    assert "row 4: not a date: 'the sixth of May'" in err
    assert "2 added" in out and "2 rejected" in out
    good = Subscriber.objects.get(email_lower="good@example.com")
    assert good.consent_source == "webinar"
    assert good.consent_at == dt.datetime(2023, 5, 6, tzinfo=dt.UTC)
    assert good.name == "Good"
    assert Subscriber.objects.get(email_lower="also@example.com").consent_source == "CSV import"


def test_a_ghost_export_suppresses_members_who_turned_emails_off(
    weekly: MailingList, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        """
id,email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,deleted_at,labels
1,on@example.com,On Reader,,true,false,,2022-02-02T10:00:00.000Z,,"vip, early"
2,off@example.com,Off Reader,,false,false,cus_1,2022-02-03T10:00:00.000Z,,
3,gone@example.com,,,true,false,,2022-02-04T10:00:00.000Z,2023-01-01T00:00:00.000Z,
""",
    )

    run(path, "ghost")

    on = Subscriber.objects.get()
    assert (on.email, on.name, on.consent_source) == ("on@example.com", "On Reader", "Ghost import")
    assert on.consent_at == dt.datetime(2022, 2, 2, 10, tzinfo=dt.UTC)
    assert set(Suppression.objects.values_list("email", flat=True)) == {
        "off@example.com",
        "gone@example.com",
    }


MAILCHIMP_HEADER = (
    '"Email Address","First Name","Last Name","MEMBER_RATING","OPTIN_TIME","OPTIN_IP",'
    '"CONFIRM_TIME","CONFIRM_IP","LATITUDE","LONGITUDE","GMTOFF","DSTOFF","TIMEZONE","CC",'
    '"REGION","LAST_CHANGED","LEID","EUID","NOTES","TAGS"'
)


def test_mailchimp_subscribed_unsubscribed_and_cleaned_files_each_land_right(
    weekly: MailingList, tmp_path: Path
) -> None:
    subscribed = write(
        tmp_path,
        "\ufeff"
        + MAILCHIMP_HEADER
        + '\n"mc@example.com","Mary","Chimp",2,"2019-04-01 09:00:00","203.0.113.9",'
        '"2019-04-01 09:05:00","203.0.113.9",,,,,,,,"2019-04-01 09:05:00",1,abc,,\n',
        "members.csv",
    )
    unsubscribed = write(
        tmp_path,
        MAILCHIMP_HEADER.replace(',"TAGS"', ',"UNSUB_TIME","UNSUB_CAMPAIGN_TITLE","TAGS"')
        + '\n"bye@example.com","","",2,"2019-04-01 09:00:00",,"2019-04-01 09:05:00",,,,,,,,,'
        '"2020-01-01 00:00:00",2,def,,"2020-01-01 00:00:00","Issue 3",\n',
        "unsubscribed.csv",
    )
    cleaned = write(
        tmp_path,
        MAILCHIMP_HEADER.replace(',"TAGS"', ',"CLEAN_TIME","CLEAN_CAMPAIGN_TITLE","TAGS"')
        + '\n"dead@example.com","","",1,"2019-04-01 09:00:00",,,,,,,,,,,'
        '"2020-01-01 00:00:00",3,ghi,,"2020-01-01 00:00:00","Issue 4",\n',
        "cleaned.csv",
    )

    for path in (subscribed, unsubscribed, cleaned):
        run(path, "mailchimp")

    mary = Subscriber.objects.get()
    assert mary.name == "Mary Chimp"
    assert mary.consent_at == dt.datetime(2019, 4, 1, 9, 5, tzinfo=dt.UTC)
    assert mary.consent_ip == "203.0.113.9"
    assert Suppression.objects.get(email="bye@example.com").reason == "unsubscribed"
    assert Suppression.objects.get(email="dead@example.com").reason == "hard-bounce"


def test_a_kit_export_maps_states_and_refuses_an_unknown_one(
    weekly: MailingList, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        """
email_address,first_name,state,created_at
kit@example.com,Kit,active,2021-06-01 12:00:00 UTC
cancel@example.com,,cancelled,2021-06-02 12:00:00 UTC
bounce@example.com,,bounced,2021-06-03 12:00:00 UTC
odd@example.com,,sleeping,2021-06-04 12:00:00 UTC
""",
    )

    _, err = run(path, "kit")

    kit = Subscriber.objects.get()
    assert (kit.email, kit.name) == ("kit@example.com", "Kit")
    assert kit.consent_at == dt.datetime(2021, 6, 1, 12, tzinfo=dt.UTC)
    assert dict(Suppression.objects.values_list("email", "reason")) == {
        "cancel@example.com": "unsubscribed",
        "bounce@example.com": "hard-bounce",
    }
    assert "row 5: unknown state: 'sleeping'" in err


def test_an_address_already_here_or_suppressed_is_left_as_it_is(
    weekly: MailingList, tmp_path: Path
) -> None:
    existing = SubscriberFactory(email="ada@example.com", consent_source="home page")
    Suppression.objects.create(email="grace@example.com", reason="complaint")

    out, _ = run(write(tmp_path, SUBSTACK), "substack")

    existing.refresh_from_db()
    assert existing.consent_source == "home page"
    assert not Subscriber.objects.filter(email_lower="grace@example.com").exists()
    assert Suppression.objects.get(email="grace@example.com").reason == "complaint"
    assert "0 added, 1 already there" in out


def test_list_chooses_the_mailing_list_and_an_unknown_one_is_an_error(
    weekly: MailingList, tmp_path: Path
) -> None:
    other = MailingListFactory(slug="jobs", name="Jobs", is_default=False)
    path = write(tmp_path, SUBSTACK)

    run(path, "substack", "--list", "jobs")

    assert set(Subscription.objects.values_list("mailing_list", flat=True)) == {other.pk}
    with pytest.raises(CommandError, match="no mailing list 'nope'"):
        run(path, "substack", "--list", "nope")


def test_a_file_that_is_not_utf8_is_a_clear_error(weekly: Any, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("email,name\nzoë@example.com,Zoë\n".encode("latin-1"))

    with pytest.raises(CommandError, match="not UTF-8"):
        run(path, "csv")
