"""A person's data: exported whole, erased everywhere, expired on time, explained on /privacy/."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core import mail, signing
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from bookings import seats
from bookings.models import Booking
from clients import privacy, results
from clients.models import Contact, Note, Outcome
from coaching.models import CoachProfile, OutboundEmail, User
from guides.models import GuideView
from newsletter import services as newsletter_services
from newsletter.models import Delivery, Subscriber, Subscription, Suppression, erased_marker
from store.models import Order, StripeEvent
from tests.bookings.test_seats import make_session, make_workshop
from tests.clients.factories import book, buy_package
from tests.conftest import make_user
from tests.guides.factories import GuideFactory
from tests.newsletter.factories import CampaignFactory, MailingListFactory

EMAIL = "quinley.ashbourne@example.com"
NAME = "Quinley Ashbourne"
IP = "203.0.113.77"
TEXT_TYPES = {"CharField", "TextField", "JSONField", "GenericIPAddressField", "EmailField"}


@pytest.fixture
def profile(db: None) -> CoachProfile:
    return CoachProfile.objects.create(
        name="Alex Morgan", headline="Coach", bio="Bio", email="coach@example.com",
        time_zone="Europe/London",
    )  # fmt: skip


@pytest.fixture
def person(coach: Any, profile: CoachProfile) -> User:
    """Someone with data in every app: account, order, bookings, newsletter, notes, reads."""
    user = make_user(EMAIL, name=NAME)
    order = buy_package(user)
    Order.objects.filter(pk=order.pk).update(
        business_name=NAME, business_address="1 High Street\nTown", tax_id="GB123"
    )
    book(coach, email=EMAIL, user=user, days_ahead=4)  # upcoming, confirmed
    contact = Contact.objects.get(email=EMAIL)
    Note.objects.create(contact=contact, body="Shared: practise system design.", is_shared=True)
    Note.objects.create(contact=contact, body="Private: seems nervous about salary.")
    offer = results.record_outcome(
        Outcome(contact=contact, kind="offer", company="Acme AI", role="ML Engineer")
    )
    # A published quote under their full name, and a seat in a workshop.
    results.answer_testimonial(
        request=offer.testimonial_request, quote="It worked.", name_shown="full",
        show_company=True, show_figures=False,
    )  # fmt: skip
    results.approve_testimonial(request=offer.testimonial_request)
    session = make_session(make_workshop(coach), days_ahead=9, hour=18)
    seats.book_seat(session=session, name=NAME, email=EMAIL, time_zone="UTC", user=user)
    weekly = MailingListFactory()
    subscriber = Subscriber.objects.create(
        email=EMAIL, name=NAME, status=Subscriber.Status.CONFIRMED, consent_at=timezone.now(),
        consent_ip=IP, consent_text="Weekly emails", confirmed_at=timezone.now(), user=user,
    )  # fmt: skip
    Subscription.objects.create(subscriber=subscriber, mailing_list=weekly)
    Delivery.objects.create(campaign=CampaignFactory(mailing_list=weekly), subscriber=subscriber)
    GuideView.objects.create(guide=GuideFactory(), user=user)
    StripeEvent.objects.create(
        event_id="evt_privacy", type="checkout.session.completed",
        payload={"data": {"object": {"customer_details": {"email": EMAIL, "name": NAME}}}},
    )  # fmt: skip
    LogEntry.objects.log_actions(
        user_id=coach.pk, queryset=Contact.objects.filter(pk=contact.pk), action_flag=CHANGE,
        change_message="Changed name.", single_object=True,
    )  # fmt: skip
    return user


def places_holding(*needles: str) -> list[str]:
    """Every text column of every table (found by introspection) holding one of the needles."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                try:
                    kind = connection.introspection.get_field_type(column.type_code, column)
                except KeyError:  # types Django does not map (tsvector): not free text
                    continue
                if kind not in TEXT_TYPES:
                    continue
                for needle in needles:
                    cursor.execute(
                        f'SELECT count(*) FROM "{table}" WHERE "{column.name}"::text ILIKE %s',  # noqa: S608
                        [f"%{needle}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append(f"{table}.{column.name}: {needle}")
    return found


def unzip(content: bytes) -> tuple[dict[str, Any], list[str]]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    return json.loads(archive.read("data.json")), archive.namelist()


# --- Export ------------------------------------------------------------------------


def test_a_signed_in_person_downloads_everything_held_about_them_as_one_zip(
    client: Any, person: User
) -> None:
    client.force_login(person)
    response = client.get("/portal/privacy/export/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    data, names = unzip(response.content)
    assert data["account"]["email"] == EMAIL
    assert data["contact"]["name"] == NAME
    assert [o["business_name"] for o in data["orders"]] == [NAME]
    assert data["session_credits"][0]["total"] == 3
    assert data["bookings"][0]["answers"] == {"goal": "Land an ML role"}
    assert data["newsletter"]["subscribers"][0]["consent_ip"] == IP
    assert len(data["newsletter"]["deliveries"]) == 1
    assert [n["body"] for n in data["shared_notes"]] == ["Shared: practise system design."]
    assert data["outcomes"][0]["company"] == "Acme AI"
    assert data["reading_history"]
    assert data["timeline"]
    order = Order.objects.get(email=EMAIL)
    assert f"invoices/invoice-{order.number}.pdf" in names


def test_the_export_never_holds_the_coachs_private_notes(client: Any, person: User) -> None:
    client.force_login(person)
    content = client.get("/portal/privacy/export/").content
    data, _ = unzip(content)
    assert "seems nervous" not in json.dumps(data)


def test_the_export_is_only_for_the_signed_in_person(client: Any, person: User) -> None:
    response = client.get("/portal/privacy/export/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    stranger = make_user("someone.else@example.com")
    client.force_login(stranger)
    data, names = unzip(client.get("/portal/privacy/export/").content)
    assert data["account"]["email"] == "someone.else@example.com"
    assert data["bookings"] == [] and data["orders"] == [] and names == ["data.json"]


def test_the_coach_exports_a_contacts_data_from_their_workspace(
    coach_client: Any, person: User
) -> None:
    contact = Contact.objects.get(email=EMAIL)
    page = coach_client.get(reverse("admin:clients_contact_change", args=[contact.pk]))
    export_url = reverse("admin:clients_contact_export_data", args=[contact.pk])
    assert export_url in page.content.decode()
    data, _ = unzip(coach_client.get(export_url).content)
    assert data["email"] == EMAIL and data["contact"]["name"] == NAME


def test_staff_without_the_export_permission_get_403(client: Any, person: User) -> None:
    staff = make_user("assistant@example.com")
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    staff.refresh_from_db()
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth.models import Permission

    from tests.conftest import TOTP_SECRET

    TOTP.activate(staff, TOTP_SECRET)

    staff.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(staff)
    contact = Contact.objects.get(email=EMAIL)
    url = reverse("admin:clients_contact_export_data", args=[contact.pk])
    assert client.get(url).status_code == 403
    assert client.get(reverse("admin:clients_contact_erase", args=[contact.pk])).status_code == 403


# --- Erasure -----------------------------------------------------------------------


def test_erasing_a_person_leaves_their_address_and_name_in_no_text_column(
    person: User,
) -> None:
    before = places_holding(EMAIL, NAME, IP)
    # The data really is everywhere first, so the search below can find it.
    for place in ["clients_contact.email", "store_order.email", "bookings_booking.email",
                  "newsletter_subscriber.email", "newsletter_subscriber.consent_ip",
                  "coaching_outboundemail.to", "store_stripeevent.payload",
                  "django_admin_log.object_repr", "coaching_user.email",
                  "bookings_seat.email", "coaching_testimonial.author"]:  # fmt: skip
        assert any(found.startswith(place) for found in before), place

    privacy.erase_person(email=EMAIL.upper())

    assert places_holding(EMAIL, NAME, IP) == []


def test_an_erasure_cancels_upcoming_calls_with_the_usual_emails_and_keeps_orders_anonymised(
    person: User,
) -> None:
    order = Order.objects.get(email=EMAIL)
    counts = privacy.erase_person(email=EMAIL)
    assert counts["cancelled"] == 1 and counts["seats_cancelled"] == 1
    assert any(EMAIL in m.to and "ancel" in m.subject for m in mail.outbox)
    assert any(EMAIL in m.to and m.subject.startswith("Seat cancelled") for m in mail.outbox)
    assert any("coach@example.com" in m.to for m in mail.outbox)
    kept = Order.objects.get(pk=order.pk)
    assert kept.email.endswith("@erased.invalid") and kept.user is None
    assert kept.business_name == "" and kept.total == 45000 and kept.paid_at is not None
    # What stays is the coach's own time for the workshop, which names nobody.
    assert not Booking.objects.filter(group_session__isnull=True).exists()
    assert not User.objects.filter(email=EMAIL).exists()
    assert not Contact.objects.filter(email=EMAIL).exists()
    assert not GuideView.objects.filter(user__isnull=False).exclude(user__is_staff=True).exists()
    assert Suppression.objects.filter(email=erased_marker(EMAIL), reason="erased").exists()


def test_an_erased_person_is_never_emailed_again(person: User) -> None:
    privacy.erase_person(email=EMAIL)
    weekly = MailingListFactory()
    again = newsletter_services.subscribe(email=EMAIL, lists=[weekly], source="footer", ip=None)
    assert not OutboundEmail.objects.filter(to__iexact=EMAIL).exists()
    Subscriber.objects.filter(pk=again.pk).update(status=Subscriber.Status.CONFIRMED)
    assert not Subscriber.objects.receiving(weekly).filter(pk=again.pk).exists()
    assert Suppression.objects.covers(EMAIL)


def test_the_database_and_python_compute_the_same_erasure_marker(db: None) -> None:
    from newsletter.models import erased_marker_of

    sub = Subscriber.objects.create(email="Mixed.Case@Example.com", consent_text="x")
    marker = Subscriber.objects.annotate(m=erased_marker_of("email_lower")).get(pk=sub.pk).m
    assert marker == erased_marker(" mixed.case@example.COM ")
    assert re.fullmatch(r"erased:[0-9a-f]{64}", marker)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'erased:' || encode(sha256(convert_to(%s, 'UTF8')), 'hex')",
            ["mixed.case@example.com"],
        )
        assert cursor.fetchone()[0] == marker


def test_asking_from_the_portal_sends_a_signed_link_and_only_confirming_erases(
    client: Any, person: User
) -> None:
    client.force_login(person)
    response = client.post("/portal/privacy/erase/")
    assert response.status_code == 302 and response["Location"].endswith("?sent=1")
    email = OutboundEmail.objects.get(template="clients-erase-confirm")
    assert email.to == EMAIL
    url = re.search(r"https?://\S+/privacy/erase/\S+/", email.body_text).group(0)  # type: ignore[union-attr]
    path = url.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and b"Yes, erase everything" in page.content
    assert User.objects.filter(email=EMAIL).exists()  # following the link erases nothing
    done = client.post("/" + path)
    assert done.status_code == 200 and b"data-erased" in done.content
    assert not User.objects.filter(email=EMAIL).exists()
    assert "_auth_user_id" not in client.session


def test_a_forged_or_expired_erasure_link_erases_nothing(client: Any, person: User) -> None:
    forged = signing.dumps({"email": EMAIL}, salt="another-salt")
    assert client.post(f"/privacy/erase/{forged}/").status_code == 400
    token = privacy.erase_token(EMAIL)
    import time_machine

    with time_machine.travel(timezone.now() + timedelta(hours=privacy.ERASE_LINK_HOURS + 1)):
        assert client.post(f"/privacy/erase/{token}/").status_code == 400
    assert User.objects.filter(email=EMAIL).exists()


def test_the_coach_erases_a_contact_from_a_confirm_page(coach_client: Any, person: User) -> None:
    contact = Contact.objects.get(email=EMAIL)
    url = reverse("admin:clients_contact_erase", args=[contact.pk])
    page = coach_client.get(url)
    assert page.status_code == 200 and b"data-erase-confirm" in page.content
    assert Contact.objects.filter(pk=contact.pk).exists()
    response = coach_client.post(url)
    assert response.status_code == 302
    assert not Contact.objects.filter(email=EMAIL).exists()
    assert not User.objects.filter(email=EMAIL).exists()


# --- Retention ---------------------------------------------------------------------


def test_sent_email_bodies_are_cleared_after_the_retention_period(
    settings: Any, person: User
) -> None:
    settings.RETENTION_EMAIL_BODY_DAYS = 90
    OutboundEmail.objects.update(status="sent", sent_at=timezone.now() - timedelta(days=89))
    assert privacy.expire_email_bodies() == 0
    assert OutboundEmail.objects.exclude(body_text="").exists()
    OutboundEmail.objects.update(sent_at=timezone.now() - timedelta(days=91))
    assert privacy.expire_email_bodies() > 0
    assert not OutboundEmail.objects.exclude(body_text="").exists()
    assert not OutboundEmail.objects.filter(subject="").exists()  # subjects stay


def test_consent_ips_are_cleared_after_the_retention_period(settings: Any, person: User) -> None:
    settings.RETENTION_IP_MONTHS = 12
    subscriber = Subscriber.objects.get(email_lower=EMAIL)
    Subscriber.objects.filter(pk=subscriber.pk).update(
        consent_at=timezone.now() - timedelta(days=300)
    )
    privacy.expire_ip_addresses()
    assert Subscriber.objects.get(pk=subscriber.pk).consent_ip == IP
    Subscriber.objects.filter(pk=subscriber.pk).update(
        consent_at=timezone.now() - timedelta(days=370)
    )
    privacy.expire_ip_addresses()
    assert Subscriber.objects.get(pk=subscriber.pk).consent_ip is None


def test_reading_history_is_untied_from_the_reader_after_the_retention_period(
    settings: Any, person: User
) -> None:
    settings.RETENTION_READING_HISTORY_MONTHS = 24
    GuideView.objects.update(viewed_at=timezone.now() - timedelta(days=700))
    privacy.expire_reading_history()
    assert GuideView.objects.filter(user=person).count() == 1
    GuideView.objects.update(viewed_at=timezone.now() - timedelta(days=760))
    from clients.tasks import apply_retention_task

    apply_retention_task.delay()
    assert GuideView.objects.filter(user=person).count() == 0
    assert GuideView.objects.count() == 1  # still counted for the guide


def test_the_retention_job_is_on_beats_schedule(settings: Any) -> None:
    entries = [e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "clients.tasks.apply_retention_task" in entries


# --- The privacy page --------------------------------------------------------------


def test_the_privacy_page_shows_the_retention_settings(
    client: Any, settings: Any, db: None
) -> None:
    settings.RETENTION_EMAIL_BODY_DAYS = 45
    settings.RETENTION_IP_MONTHS = 6
    settings.RETENTION_READING_HISTORY_MONTHS = 18
    page = client.get("/privacy/").content.decode()
    assert "45 days" in page and "6 months" in page and "18 months" in page


def test_every_footer_and_every_address_form_links_to_the_privacy_page(
    client: Any, coach: Any, profile: CoachProfile
) -> None:
    from tests.bookings.factories import london, make_event_type, next_weekday
    from tests.store.factories import ProductFactory

    event_type = make_event_type(coach)
    home = client.get("/").content.decode()
    assert 'href="/privacy/">Privacy</a>' in home
    assert "How we use your address" in home  # the footer's newsletter signup
    assert "How we use your address" in client.get("/newsletter/subscribe/").content.decode()
    product = ProductFactory()
    assert "How we use your address" in client.get(f"/store/{product.slug}/").content.decode()
    start = london(next_weekday(), 11)
    held = client.post(f"/book/{event_type.slug}/hold/", {"start": start.isoformat()})
    details = client.get(held["Location"]).content.decode()
    assert 'href="/privacy/">How we use your address</a>' in details


def test_the_privacy_pages_have_no_markup_the_html_checker_rejects(
    client: Any, person: User
) -> None:
    from tests.coaching.test_markup import markup_problems

    client.force_login(person)
    token = privacy.erase_token(EMAIL)
    for path in ["/privacy/", "/portal/privacy/", "/portal/privacy/?sent=1",
                 f"/privacy/erase/{token}/", "/privacy/erase/forged/"]:  # fmt: skip
        response = client.get(path)
        assert response.status_code in {200, 400}, path
        assert markup_problems(response.content.decode()) == [], path


def test_a_staff_account_is_refused_rather_than_half_erased(coach_client: Any, coach: Any) -> None:
    contact = Contact.objects.create(email=coach.email, user=coach)
    response = coach_client.post(reverse("admin:clients_contact_erase", args=[contact.pk]))
    assert response.status_code == 302
    assert User.objects.filter(pk=coach.pk).exists()
    token = privacy.erase_token(coach.email)
    assert coach_client.post(f"/privacy/erase/{token}/").status_code == 400
    assert User.objects.filter(pk=coach.pk).exists()


def test_an_erasure_deletes_the_stamped_copies_that_carry_the_address(
    person: User, settings: Any, tmp_path: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core.files.base import ContentFile

    from store.models import StampedFile
    from tests.store.factories import add_pdf

    settings.MEDIA_ROOT = tmp_path / "media"
    order = Order.objects.get(email=EMAIL)
    version = add_pdf(order.items.get().product)
    stamp = StampedFile(user=person, version=version, order=order, status="ready")
    stamp.file.save("stamped.pdf", ContentFile(f"Licensed to {EMAIL}".encode()), save=False)
    stamp.save()
    path = Path(stamp.file.path)
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        privacy.erase_person(email=EMAIL)
    assert not StampedFile.objects.exists()
    assert not path.exists()


def test_an_address_the_account_booked_under_is_erased_with_it(coach: Any, person: User) -> None:
    other = "q.ashbourne@work.example.com"
    book(coach, email=other, user=person, days_ahead=6, hour=14)
    assert places_holding(other)
    counts = privacy.erase_person(email=EMAIL)
    assert counts["cancelled"] == 2
    assert places_holding(EMAIL, other, NAME) == []
    assert Suppression.objects.covers(other)


def test_the_campaign_senders_own_sql_skips_an_erased_address(db: None) -> None:
    import uuid

    from newsletter.sending import mark_sent

    weekly = MailingListFactory()
    subscriber = Subscriber.objects.create(
        email=EMAIL, status=Subscriber.Status.CONFIRMED, consent_text="x",
        confirmed_at=timezone.now(),
    )  # fmt: skip
    Subscription.objects.create(subscriber=subscriber, mailing_list=weekly)
    claim = uuid.uuid4()
    delivery = Delivery.objects.create(
        campaign=CampaignFactory(mailing_list=weekly), subscriber=subscriber, status="sending",
        claim=claim,
    )  # fmt: skip
    Suppression.objects.create(email=erased_marker(EMAIL), reason=Suppression.Reason.ERASED)
    assert not mark_sent(delivery.pk, claim, weekly.pk)
    Suppression.objects.all().delete()
    assert mark_sent(delivery.pk, claim, weekly.pk)
