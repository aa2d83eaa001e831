"""Confirming brings the lead magnet into the library and starts the welcome sequence."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from newsletter import services
from newsletter.models import Subscriber, WelcomeEmail, WelcomeStep
from newsletter.welcome import send_due_welcome_emails
from store.models import Entitlement, Product
from tests.store.factories import ProductFactory

pytestmark = pytest.mark.django_db


def sign_up(weekly, email: str = "reader@example.com") -> Subscriber:
    """Through the list's own form, which is what earns its lead magnet."""
    return services.subscribe(
        email=email, lists=[weekly], source="test", ip="127.0.0.1", joined_through=weekly
    )


def test_confirming_puts_the_lists_free_guide_in_the_library_once(weekly, client):
    guide = ProductFactory(slug="cv-checklist", title="CV checklist", kind=Product.Kind.ONLINE)
    weekly.lead_magnet = guide
    weekly.save(update_fields=["lead_magnet"])
    subscriber = sign_up(weekly)
    assert not Entitlement.objects.exists()  # nothing before the opt-in is confirmed
    services.confirm(subscriber_id=subscriber.pk)
    subscriber.refresh_from_db()
    [entitlement] = Entitlement.objects.all()
    assert entitlement.product == guide and entitlement.user == subscriber.user
    assert entitlement.user.email == "reader@example.com"
    assert entitlement.order.total == 0 and entitlement.order.grants_access
    welcome = mail.outbox[-1]
    assert "CV checklist" in welcome.body and "/library/" in welcome.body
    client.force_login(subscriber.user)
    assert "CV checklist" in client.get("/library/").content.decode()
    # Leaving and confirming again does not grant it twice.
    services.unsubscribe(subscriber=subscriber)
    subscriber = sign_up(weekly)
    services.confirm(subscriber_id=subscriber.pk)
    assert Entitlement.objects.count() == 1


def test_the_welcome_sequence_goes_out_when_due_to_people_still_subscribed(weekly, settings):
    WelcomeStep.objects.create(mailing_list=weekly, delay_hours=24, subject="Day one", body="Hi.")
    WelcomeStep.objects.create(
        mailing_list=weekly, delay_hours=72, subject="Day three", body="**Tip**"
    )
    stays = sign_up(weekly, "stays@example.com")
    leaves = sign_up(weekly, "leaves@example.com")
    services.confirm(subscriber_id=stays.pk)
    services.confirm(subscriber_id=leaves.pk)
    assert WelcomeEmail.objects.count() == 4
    mail.outbox.clear()
    assert send_due_welcome_emails() == {"sent": 0, "skipped": 0}  # nothing due yet

    services.unsubscribe(subscriber=Subscriber.objects.get(pk=leaves.pk))
    WelcomeEmail.objects.filter(step__delay_hours=24).update(
        due_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert send_due_welcome_emails() == {"sent": 1, "skipped": 1}
    assert [m.to for m in mail.outbox] == [["stays@example.com"]]
    message = mail.outbox[0]
    assert message.subject == "Day one"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert send_due_welcome_emails() == {"sent": 0, "skipped": 0}  # each step once
    statuses = dict(WelcomeEmail.objects.values_list("subscriber__email", "status").filter(
        step__delay_hours=24
    ))  # fmt: skip
    assert statuses == {"stays@example.com": "sent", "leaves@example.com": "skipped"}


def test_a_welcome_email_text_part_reads_as_text_not_as_markdown(weekly):
    WelcomeStep.objects.create(
        mailing_list=weekly,
        delay_hours=1,
        subject="Hello",
        body="A **tip**: [read](https://example.org/r/).",
    )
    services.confirm(subscriber_id=sign_up(weekly, "reader@example.com").pk)
    mail.outbox.clear()
    WelcomeEmail.objects.update(due_at=timezone.now() - dt.timedelta(minutes=1))
    send_due_welcome_emails()
    [message] = [m for m in mail.outbox if m.subject == "Hello"]
    assert "A tip: read (https://example.org/r/)." in message.body
    assert "**" not in message.body
