from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from newsletter import services, tokens
from newsletter.models import MailingList, Subscriber, Subscription, Suppression

pytestmark = pytest.mark.django_db


def confirm_link(message: Any) -> str:
    return re.search(r"http://[^\s]+/newsletter/confirm/[^\s/]+/", message.body)[0]


def test_it_records_consent_and_sends_one_confirmation_from_a_page_form(client, weekly):
    response = client.post(
        "/newsletter/subscribe/",
        {"email": "Ada@Example.com", "source": "footer", "time_zone": "Europe/Paris"},
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    subscriber = Subscriber.objects.get()
    assert subscriber.email_lower == "ada@example.com"
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_ip == "203.0.113.9"
    assert subscriber.consent_source == "footer"
    assert "Unsubscribe anytime" in subscriber.consent_text
    assert subscriber.time_zone == "Europe/Paris"
    assert list(subscriber.subscriptions.values_list("mailing_list__slug", flat=True)) == ["weekly"]
    assert len(mail.outbox) == 1
    assert "/newsletter/confirm/" in mail.outbox[0].body


def test_the_footer_form_works_without_a_csrf_token(weekly):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/newsletter/subscribe/", {"email": "ben@example.com"})
    assert response.status_code == 200
    assert Subscriber.objects.filter(email_lower="ben@example.com").exists()


def test_the_same_address_in_another_case_is_one_subscriber(client, weekly):
    client.post("/newsletter/subscribe/", {"email": "chloe@example.com"})
    client.post("/newsletter/subscribe/", {"email": "CHLOE@example.com"})
    assert Subscriber.objects.count() == 1
    assert len(mail.outbox) == 1  # one confirmation an hour at most


def test_a_bad_address_gets_a_form_error_not_a_500(client, weekly):
    response = client.post("/newsletter/subscribe/", {"email": "not-an-address"})
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content
    assert Subscriber.objects.count() == 0


def test_htmx_gets_a_partial(client, weekly):
    response = client.post(
        "/newsletter/subscribe/", {"email": "dev@example.com"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert b"Check your inbox" in response.content
    assert b"<html" not in response.content


def test_it_limits_signups_per_ip(client, weekly, settings):
    settings.THROTTLE_LIMITS = {
        **settings.THROTTLE_LIMITS,
        "newsletter-signup": {"ip": (2, 3600), "email": (3, 3600)},
    }
    for n in range(2):
        assert (
            client.post("/newsletter/subscribe/", {"email": f"p{n}@example.com"}).status_code == 200
        )
    response = client.post("/newsletter/subscribe/", {"email": "p9@example.com"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert not Subscriber.objects.filter(email_lower="p9@example.com").exists()


def test_it_limits_signups_per_address_without_saying_so(client, weekly, settings):
    settings.THROTTLE_LIMITS = {
        **settings.THROTTLE_LIMITS,
        "newsletter-signup": {"ip": (100, 3600), "email": (1, 3600)},
    }
    client.post("/newsletter/subscribe/", {"email": "eve@example.com"})
    Subscriber.objects.update(confirmation_sent_at=None)  # the hourly resend guard aside
    response = client.post("/newsletter/subscribe/", {"email": "eve@example.com"})
    assert response.status_code == 200
    assert len(mail.outbox) == 1


def test_the_signup_page_shows_the_lists(client, weekly):
    MailingList.objects.create(name="Product announcements", slug="announcements")
    response = client.get("/newsletter/subscribe/")
    assert response.status_code == 200
    assert b"Product announcements" in response.content
    assert b"The weekly letter" in response.content


def test_it_subscribes_to_the_lists_ticked_on_the_signup_page(client, weekly):
    other = MailingList.objects.create(name="Product announcements", slug="announcements")
    client.post("/newsletter/subscribe/", {"email": "f@example.com", "lists": [other.pk]})
    assert list(Subscription.objects.values_list("mailing_list__slug", flat=True)) == [
        "announcements"
    ]


def test_get_on_the_confirmation_link_changes_nothing(client, weekly):
    client.post("/newsletter/subscribe/", {"email": "gina@example.com"})
    response = client.get(confirm_link(mail.outbox[0]))
    assert response.status_code == 200
    assert b"Yes, subscribe me" in response.content
    # Nothing submits the form by itself: scanners that run scripts do not confirm.
    assert b"requestSubmit" not in response.content and b".submit()" not in response.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert len(mail.outbox) == 1


def test_post_on_the_confirmation_link_confirms_and_welcomes(weekly):
    client = Client(enforce_csrf_checks=True)
    client.post("/newsletter/subscribe/", {"email": "hugo@example.com"})
    response = client.post(confirm_link(mail.outbox[0]))
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert subscriber.confirmed_at is not None
    assert mail.outbox[-1].subject.startswith("Welcome")
    client.post(confirm_link(mail.outbox[0]))
    assert len(mail.outbox) == 2  # confirming twice welcomes once


def test_a_tampered_confirmation_link_is_refused(client, weekly):
    response = client.post("/newsletter/confirm/1.forged/")
    assert response.status_code == 400


def test_a_reminder_goes_once_after_24_hours(weekly, time_machine):
    time_machine.move_to("2025-03-01 09:00Z")
    services.subscribe(email="ines@example.com", lists=[weekly], source="t", ip=None)
    assert services.send_confirmation_reminders() == 0
    time_machine.move_to("2025-03-02 09:30Z")
    assert services.send_confirmation_reminders() == 1
    assert services.send_confirmation_reminders() == 0
    assert [m.subject.split(":")[0] for m in mail.outbox] == [
        "Please confirm your subscription to AI Career Coach",
        "Reminder",
    ]


def unsubscribe_url(subscriber: Subscriber) -> str:
    return f"/newsletter/unsubscribe/{tokens.subscriber_token(subscriber.pk)}/"


def test_get_on_the_unsubscribe_link_changes_nothing(client, weekly):
    subscriber = services.subscribe(email="jun@example.com", lists=[weekly], source="t", ip=None)
    services.confirm(subscriber_id=subscriber.pk)
    response = client.get(unsubscribe_url(subscriber))
    assert response.status_code == 200
    assert b"Unsubscribe" in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED
    assert not Suppression.objects.exists()


def test_one_click_post_unsubscribes_without_login_or_csrf(weekly):
    subscriber = services.subscribe(email="kemi@example.com", lists=[weekly], source="t", ip=None)
    services.confirm(subscriber_id=subscriber.pk)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        unsubscribe_url(subscriber),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert Suppression.objects.get().email == "kemi@example.com"
    assert not Subscriber.objects.receiving(weekly).exists()


def test_a_forged_unsubscribe_token_is_refused(weekly):
    response = Client().post("/newsletter/unsubscribe/1.bad/")
    assert response.status_code == 400


def test_resubscribing_after_unsubscribing_needs_a_new_confirmation(client, weekly):
    subscriber = services.subscribe(email="liam@example.com", lists=[weekly], source="t", ip=None)
    services.confirm(subscriber_id=subscriber.pk)
    services.unsubscribe(subscriber=subscriber)
    services.subscribe(email="liam@example.com", lists=[weekly], source="t", ip=None)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    assert not Subscriber.objects.receiving(weekly).exists()
    services.confirm(subscriber_id=subscriber.pk)
    assert Subscriber.objects.receiving(weekly).count() == 1


def test_the_preference_page_changes_lists_and_time_zone(client, weekly):
    other = MailingList.objects.create(name="Product announcements", slug="announcements")
    subscriber = services.subscribe(email="maya@example.com", lists=[weekly], source="t", ip=None)
    services.confirm(subscriber_id=subscriber.pk)
    url = f"/newsletter/preferences/{tokens.subscriber_token(subscriber.pk)}/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"lists": [other.pk], "time_zone": "Asia/Tokyo"})
    assert response.status_code == 200
    assert not Subscriber.objects.receiving(weekly).exists()
    assert Subscriber.objects.receiving(other).count() == 1
    subscriber.refresh_from_db()
    assert subscriber.time_zone == "Asia/Tokyo"
    bad = client.post(url, {"lists": [other.pk], "time_zone": "Mars/Olympus"})
    assert bad.status_code == 400


def test_bounces_and_complaints_feed_the_suppression_list(weekly, settings):
    from anymail.signals import AnymailTrackingEvent, tracking

    settings.NEWSLETTER_SOFT_BOUNCE_LIMIT = 2
    for email in ("hard@example.com", "soft@example.com", "angry@example.com"):
        s = services.subscribe(email=email, lists=[weekly], source="t", ip=None)
        services.confirm(subscriber_id=s.pk)

    def event(kind: str, email: str, reason: str | None = None) -> None:
        tracking.send(
            sender=None,
            event=AnymailTrackingEvent(event_type=kind, recipient=email, reject_reason=reason),
            esp_name="Test",
        )

    event("bounced", "hard@example.com", "bounced")
    event("deferred", "soft@example.com")
    assert not Suppression.objects.filter(email="soft@example.com").exists()
    event("deferred", "soft@example.com")
    event("complained", "angry@example.com")
    assert dict(Suppression.objects.values_list("email", "reason")) == {
        "hard@example.com": "hard-bounce",
        "soft@example.com": "soft-bounces",
        "angry@example.com": "complaint",
    }
    assert not Subscriber.objects.receiving(weekly).exists()
