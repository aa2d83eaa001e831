"""A person's data: what is kept and for how long, export it, erase it, let it expire.

Clients sits on top of every app, so this is the one place that knows where a
person's data lives: `export_person` reads it all into one ZIP, `erase_person`
removes it (orders and invoices stay for the accounts, anonymised), and the
`expire_*` functions are the retention rules beat applies every day. The
privacy page is generated from `retention_policy()`, so what the page promises
and what the jobs do come from the same settings.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clients.models import ClientsError, Contact, Note, TimelineEvent

log = logging.getLogger(__name__)

ERASE_SALT = "clients.privacy.erase"
ERASE_LINK_HOURS = 24
ERASED = "[erased]"


def normalise(email: str) -> str:
    return email.strip().lower()


def erasure_marker(email: str) -> str:
    """What stays on the suppression list after an erasure: a hash, never the address."""
    from newsletter.models import erased_marker

    return erased_marker(email)


# --- What is kept, why, for how long ---------------------------------------------


def retention_policy() -> list[dict[str, str]]:
    """The privacy page's table, read from the settings the retention jobs use."""
    days = settings.RETENTION_EMAIL_BODY_DAYS
    ip_months = settings.RETENTION_IP_MONTHS
    reading = settings.RETENTION_READING_HISTORY_MONTHS
    return [
        {
            "what": "Your account: email address, name, time zone",
            "why": "To sign you in and show you what you bought and booked.",
            "kept": "Until you delete it (erasure below).",
        },
        {
            "what": "Orders and invoices",
            "why": "Tax and accounting law require them.",
            "kept": "As long as the law requires; on erasure your name and address "
            "are removed from them.",
        },
        {
            "what": "Bookings and your answers to the booking questions",
            "why": "To prepare and hold your calls.",
            "kept": "Until erasure.",
        },
        {
            "what": "Newsletter subscription and the record of your consent",
            "why": "To prove you asked for the newsletter and to honour unsubscribes.",
            "kept": "Until erasure; after that only a one-way hash of your address, "
            "so that you are never emailed again.",
        },
        {
            "what": "The network (IP) address you signed up or consented from, and the "
            "one a newsletter was opened or clicked from",
            "why": "To prove consent and to stop abuse.",
            "kept": f"{ip_months} months.",
        },
        {
            "what": "The text of emails we sent you",
            "why": "To answer questions about a message and to resend it.",
            "kept": f"{days} days; after that only the subject and date.",
        },
        {
            "what": "Which guides you read while signed in",
            "why": "So your coach can suggest what to read next.",
            "kept": f"{reading} months; after that only anonymous counts.",
        },
        {
            "what": "Notes, goals and outcomes your coach records",
            "why": "To coach you.",
            "kept": "Until erasure. Notes your coach shares with you are in your export.",
        },
    ]


# --- Finding a person -------------------------------------------------------------


@dataclass
class Person:
    """Everything that identifies one person across the apps."""

    email: str
    user: Any = None
    contact: Contact | None = None
    addresses: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)

    def by_email(self, name: str = "email") -> Q:
        query = Q(pk__in=[])
        for address in self.addresses:
            query |= Q(**{f"{name}__iexact": address})
        return query

    def by_email_or_user(self, email: str = "email", user: str = "user") -> Q:
        query = self.by_email(email)
        if self.user is not None:
            query |= Q(**{user: self.user})
        return query


def find_person(email: str) -> Person:
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from bookings.models import Booking
    from newsletter.models import Subscriber

    email = normalise(email)
    user = get_user_model().objects.filter(email__iexact=email).first()
    contact = Contact.objects.filter(Q(email=email) | Q(user=user) if user else Q(email=email))
    person = Person(email=email, user=user, contact=contact.order_by("pk").first())
    person.addresses = {email}
    if user is not None:
        person.addresses.add(normalise(user.email))
        person.addresses |= {
            normalise(a)
            for a in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
        }
        person.names.add(user.name)
    if person.contact is not None:
        person.addresses.add(person.contact.email)
        person.names.add(person.contact.name)
    person.names |= set(
        Booking.objects.filter(person.by_email_or_user()).values_list("name", flat=True)
    )
    person.names |= set(
        Subscriber.objects.filter(person.by_email_or_user("email_lower")).values_list(
            "name", flat=True
        )
    )
    if user is not None:
        # Addresses the account used elsewhere (a booking or order under another address).
        from store.models import Order

        for model, column in ((Booking, "email"), (Subscriber, "email_lower"), (Order, "email")):
            found = model.objects.filter(user=user).exclude(**{column: ""})
            person.addresses |= {normalise(a) for a in found.values_list(column, flat=True)}
    person.names = {name.strip() for name in person.names if len(name.strip()) >= 3}
    return person


# --- Export -----------------------------------------------------------------------


def _rows(queryset: Any, *fields: str) -> list[dict[str, Any]]:
    return list(queryset.values(*fields))


def person_data(person: Person) -> dict[str, Any]:
    """Everything held about the person, as plain JSON-ready data."""
    from bookings.models import Booking, Seat, WaitlistEntry
    from guides.models import GuideView
    from newsletter.models import Delivery, Subscriber, Subscription, Suppression
    from store.models import CreditGrant, Entitlement, Order

    user, contact = person.user, person.contact
    orders = Order.objects.filter(person.by_email_or_user()).order_by("created_at")
    subscribers = Subscriber.objects.filter(person.by_email_or_user("email_lower"))
    data: dict[str, Any] = {
        "exported_at": timezone.now(),
        "email": person.email,
        "account": None,
        "contact": None,
        "orders": [],
        "entitlements": [],
        "session_credits": [],
        "bookings": _rows(
            Booking.objects.filter(person.by_email_or_user()).order_by("start"),
            "event_type__name",
            "status",
            "start",
            "end",
            "time_zone",
            "name",
            "email",
            "answers",
            "created_at",
            "confirmed_at",
            "cancelled_at",
        ),
        "workshop_seats": _rows(
            Seat.objects.filter(person.by_email_or_user()).order_by("session__start"),
            "session__event_type__name",
            "session__start",
            "status",
            "name",
            "email",
            "time_zone",
            "created_at",
            "cancelled_at",
        ),
        "waitlist": _rows(
            WaitlistEntry.objects.filter(person.by_email()),
            "event_type__name",
            "name",
            "email",
            "time_zone",
            "status",
            "created_at",
        ),
        "newsletter": {
            "subscribers": _rows(
                subscribers,
                "email",
                "name",
                "time_zone",
                "status",
                "consent_at",
                "consent_ip",
                "consent_source",
                "consent_text",
                "created_at",
                "confirmed_at",
                "unsubscribed_at",
            ),
            "subscriptions": _rows(
                Subscription.objects.filter(subscriber__in=subscribers),
                "mailing_list__name",
                "status",
                "created_at",
                "changed_at",
            ),
            "deliveries": _rows(
                Delivery.objects.filter(subscriber__in=subscribers).order_by("created_at"),
                "campaign__subject",
                "status",
                "sent_at",
                "opened_at",
            ),
            "suppressions": _rows(
                Suppression.objects.filter(person.by_email()), "email", "reason", "created_at"
            ),
        },
        "shared_notes": [],
        "engagements": [],
        "sessions": [],
        "outcomes": [],
        "timeline": [],
        "reading_history": [],
    }
    for order in orders.prefetch_related("items", "refunds"):
        data["orders"].append(
            {
                "number": order.number,
                "email": order.email,
                "status": order.status,
                "currency": order.currency,
                "subtotal": order.subtotal,
                "total": order.total,
                "amount_refunded": order.amount_refunded,
                "created_at": order.created_at,
                "paid_at": order.paid_at,
                "business_name": order.business_name,
                "business_address": order.business_address,
                "tax_id": order.tax_id,
                "refund_request_reason": order.refund_request_reason,
                "items": [
                    {"title": i.title, "unit_amount": i.unit_amount} for i in order.items.all()
                ],
                "refunds": [
                    {"amount": r.amount, "created_at": r.created_at} for r in order.refunds.all()
                ],
            }
        )
    if user is not None:
        data["account"] = {
            "email": user.email,
            "name": user.name,
            "time_zone": user.time_zone,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
        }
        data["entitlements"] = _rows(
            Entitlement.objects.filter(user=user),
            "product__title",
            "order__number",
            "status",
            "created_at",
            "revoked_at",
        )
        data["session_credits"] = _rows(
            CreditGrant.objects.filter(user=user),
            "product__title",
            "order__number",
            "total",
            "used",
            "expires_at",
            "revoked_at",
            "created_at",
        )
        data["reading_history"] = _rows(
            GuideView.objects.filter(user=user).order_by("viewed_at"), "guide__title", "viewed_at"
        )
    if contact is not None:
        data["contact"] = {
            "email": contact.email,
            "name": contact.name,
            "company": contact.company,
            "time_zone": contact.time_zone,
            "source": contact.source,
            "source_detail": contact.source_detail,
            "created_at": contact.created_at,
            "stage": contact.stage.name if contact.stage else "",
        }
        # Private coach notes are the coach's working material; shared ones are the person's.
        shared = contact.notes.filter(is_shared=True)
        data["shared_notes"] = _rows(shared, "created_at", "body")
        data["engagements"] = _rows(
            contact.engagements.all(),
            "title",
            "credits_total",
            "credits_used",
            "credits_expired",
            "expires_at",
            "status",
            "started_at",
        )
        data["sessions"] = _rows(contact.sessions.all(), "starts_at", "outcome", "used_credit")
        data["outcomes"] = _rows(
            contact.outcomes.all(),
            "kind",
            "company",
            "role",
            "level",
            "compensation_band",
            "occurred_on",
            "notes",
        )
        private_notes = Note.objects.filter(contact=contact, is_shared=False).values("pk")
        data["timeline"] = _rows(
            contact.timeline.exclude(kind=TimelineEvent.Kind.NOTE, source_id__in=private_notes)
            .exclude(kind=TimelineEvent.Kind.TASK)
            .order_by("occurred_at"),
            "occurred_at",
            "kind",
            "title",
            "detail",
        )
    return data


def export_person(*, email: str) -> bytes:
    """One ZIP: data.json with everything held, and the invoice of every paid order."""
    from store import accounting, pdf
    from store.models import Order

    person = find_person(email)
    data = person_data(person)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2))
        paid = Order.objects.filter(
            person.by_email_or_user(), paid_at__isnull=False, invoice_sequence__isnull=False
        )
        for order in paid.select_related("user").prefetch_related("credit_notes"):
            archive.writestr(
                f"invoices/invoice-{order.number}.pdf",
                pdf.document(accounting.invoice_document(order)),
            )
            for note in order.credit_notes.all():
                archive.writestr(
                    f"invoices/{note.number}.pdf",
                    pdf.document(accounting.credit_note_document(note)),
                )
    return out.getvalue()


def export_filename(email: str) -> str:
    return f"my-data-{timezone.now():%Y%m%d}.zip"


# --- Erasure ----------------------------------------------------------------------


def erase_token(email: str) -> str:
    return signing.dumps({"email": normalise(email)}, salt=ERASE_SALT)


def email_for_erase_token(token: str) -> str | None:
    """The address a confirmation link was made for, or None when forged or expired."""
    try:
        data = signing.loads(token, salt=ERASE_SALT, max_age=timedelta(hours=ERASE_LINK_HOURS))
    except signing.BadSignature:
        return None
    email = data.get("email") if isinstance(data, dict) else None
    return email if isinstance(email, str) and email else None


def request_erasure(*, user: Any) -> None:
    """Email a signed, time-limited link; nothing is erased until it is followed."""
    from coaching.emails import queue_email

    token = erase_token(user.email)
    url = settings.SITE_URL + reverse("clients:privacy-erase-confirm", args=[token])
    queue_email(
        key=f"clients-erase-confirm-{user.pk}-{hashlib.sha256(token.encode()).hexdigest()[:16]}",
        to=user.email,
        template="clients-erase-confirm",
        context={"url": url, "hours": ERASE_LINK_HOURS, "name": user.name},
    )


def _redactor(person: Person) -> re.Pattern[str]:
    words = [re.escape(a) for a in person.addresses] + [
        r"\b" + re.escape(n) + r"\b" for n in person.names
    ]
    return re.compile("|".join(sorted(words, key=len, reverse=True)), re.IGNORECASE)


def _redact(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_redact(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _redact(item, pattern) for key, item in value.items()}
    return value


def _mentions(person: Person, *fields: str) -> Q:
    query = Q(pk__in=[])
    for needle in person.addresses | person.names:
        for name in fields:
            query |= Q(**{f"{name}__icontains": needle})
    return query


def _cancel_upcoming(person: Person) -> list[int]:
    """Cancel upcoming calls first, with the usual emails; returns the bookings' ids."""
    from bookings.models import Booking
    from bookings.services import cancel_booking

    cancelled = []
    for booking in Booking.objects.upcoming().filter(person.by_email_or_user()):
        cancel_booking(booking=booking, by_coach=True)
        cancelled.append(booking.pk)
    return cancelled


def _cancel_upcoming_seats(person: Person) -> int:
    """Workshop seats too, with their emails; each freed seat goes to the next person waiting."""
    from bookings.models import Seat
    from bookings.seats import cancel_seat

    upcoming = Seat.objects.filter(
        person.by_email_or_user(), status__in=[Seat.Status.CONFIRMED, Seat.Status.HELD,
        Seat.Status.PENDING_PAYMENT], session__start__gt=timezone.now(),
    )  # fmt: skip
    for seat in upcoming:
        cancel_seat(seat=seat, by_coach=True)
    return len(upcoming)


def _send_pending_about(person: Person) -> None:
    """Cancellation emails go out before their rows are erased. A send that fails here
    is dropped with the rest: the person asked for their data to go."""
    from coaching.models import OutboundEmail
    from coaching.tasks import send_outbound_email

    pending = OutboundEmail.objects.pending().filter(
        person.by_email("to") | _mentions(person, "subject", "body_text")
    )
    for pk in pending.values_list("pk", flat=True):
        send_outbound_email(pk)


def _file_deleter(storage: Any, name: str) -> Any:
    return lambda: storage.delete(name)


def erase_person(*, email: str) -> dict[str, int]:
    """Erase one person everywhere. Orders stay for the accounts, anonymised; a hash of
    the address stays on the suppression list so that nothing is ever sent to it again."""
    from django.contrib.admin.models import LogEntry

    from bookings.models import Booking, Seat, WaitlistEntry
    from coaching.models import OutboundEmail, Testimonial
    from guides.models import GuideView
    from newsletter.models import Subscriber, Suppression
    from store.models import Order, StampedFile, StripeEvent

    person = find_person(email)
    if person.user is not None and person.user.is_staff:
        # The coach's own account holds the calendar and everyone's bookings.
        raise ClientsError("Staff accounts are not erased here: remove their staff status first.")
    counts: dict[str, int] = {
        "cancelled": len(_cancel_upcoming(person)),
        "seats_cancelled": _cancel_upcoming_seats(person),
    }
    _send_pending_about(person)
    person = find_person(email)  # the cancellations may have written to the timeline
    pattern = _redactor(person)
    with transaction.atomic():
        # Querysets' update() on purpose: a save() would wake the timeline receivers,
        # which would make a contact again for the anonymised address.
        orders = Order.objects.filter(person.by_email_or_user())
        counts["orders_anonymised"] = 0
        for order in orders.select_for_update():
            Order.objects.filter(pk=order.pk).update(
                email=f"erased-{order.number.lower()}@erased.invalid",
                user=None,
                business_name="",
                business_address="",
                refund_request_reason="",
                return_url="",
                hold_reason=_redact(order.hold_reason, pattern),
            )
            counts["orders_anonymised"] += 1
        for event in StripeEvent.objects.filter(_mentions(person, "payload", "last_error")):
            StripeEvent.objects.filter(pk=event.pk).update(
                payload=_redact(event.payload, pattern),
                last_error=_redact(event.last_error, pattern),
            )
        bookings = Booking.objects.filter(person.by_email_or_user())
        counts["bookings"] = bookings.count()
        bookings.delete()
        WaitlistEntry.objects.filter(person.by_email()).delete()
        counts["seats"] = Seat.objects.filter(person.by_email_or_user()).delete()[0]
        # A published quote carries their name or initials: it goes with them.
        Testimonial.objects.filter(
            request__outcome__contact__in=Contact.objects.filter(person.by_email_or_user())
        ).delete()
        counts["emails"] = OutboundEmail.objects.filter(person.by_email("to")).delete()[0]
        for sent in OutboundEmail.objects.filter(
            _mentions(person, "subject", "body_text", "body_html", "attachments")
        ):
            OutboundEmail.objects.filter(pk=sent.pk).update(
                subject=_redact(sent.subject, pattern),
                body_text=_redact(sent.body_text, pattern),
                body_html=_redact(sent.body_html, pattern),
                attachments=_redact(sent.attachments, pattern),
            )
        subscribers = Subscriber.objects.filter(person.by_email_or_user("email_lower"))
        counts["subscribers"] = subscribers.count()
        subscribers.delete()  # with their deliveries, clicks, subscriptions, welcome emails
        Suppression.objects.filter(person.by_email()).delete()
        for address in person.addresses:
            Suppression.objects.get_or_create(
                email=erasure_marker(address), defaults={"reason": Suppression.Reason.ERASED}
            )
        for model in apps.get_app_config("axes").get_models():
            if any(f.name == "username" for f in model._meta.get_fields()):
                model._default_manager.filter(person.by_email("username")).delete()
        for entry in LogEntry.objects.filter(_mentions(person, "object_repr", "change_message")):
            LogEntry.objects.filter(pk=entry.pk).update(
                object_repr=_redact(entry.object_repr, pattern),
                change_message=_redact(entry.change_message, pattern),
            )
        Contact.objects.filter(person.by_email_or_user()).delete()
        if person.user is not None:
            counts["guide_views"] = GuideView.objects.filter(user=person.user).delete()[0]
            # Stamped PDFs carry the buyer's address inside them: the files go too.
            for stamp in StampedFile.objects.filter(user=person.user).exclude(file=""):
                transaction.on_commit(_file_deleter(stamp.file.storage, stamp.file.name or ""))
            person.user.delete()
            counts["account"] = 1
    log.info("erased a person: %s", counts)
    return counts


# --- Retention ---------------------------------------------------------------------


def expire_email_bodies(*, now: datetime | None = None) -> int:
    """Sent (and given-up) transactional emails keep their subject and date, not their text."""
    from coaching.models import OutboundEmail

    cutoff = (now or timezone.now()) - timedelta(days=settings.RETENTION_EMAIL_BODY_DAYS)
    return (
        OutboundEmail.objects.filter(
            Q(status=OutboundEmail.Status.SENT, sent_at__lt=cutoff)
            | Q(status=OutboundEmail.Status.FAILED, created_at__lt=cutoff)
        )
        .exclude(body_text="", body_html="", attachments=[])
        .update(body_text="", body_html="", attachments=[])
    )


def expire_ip_addresses(*, now: datetime | None = None) -> int:
    """Consent IPs, newsletter opens' and clicks' IPs, and the sign-in attempt logs
    (which hold IPs) past the limit."""
    from newsletter.models import Click, Open, Subscriber

    cutoff = (now or timezone.now()) - relativedelta(months=settings.RETENTION_IP_MONTHS)
    cleared = Subscriber.objects.filter(consent_ip__isnull=False, consent_at__lt=cutoff).update(
        consent_ip=None
    )
    cleared += Open.objects.filter(ip__isnull=False, opened_at__lt=cutoff).update(ip=None)
    cleared += Click.objects.filter(ip__isnull=False, clicked_at__lt=cutoff).update(ip=None)
    for model in apps.get_app_config("axes").get_models():
        names = {f.name for f in model._meta.get_fields()}
        if "ip_address" in names and "attempt_time" in names:
            cleared += model._default_manager.filter(attempt_time__lt=cutoff).delete()[0]
    return cleared


def expire_reading_history(*, now: datetime | None = None) -> int:
    """Old reads stay counted for the guides, untied from the reader."""
    from guides.models import GuideView

    months = settings.RETENTION_READING_HISTORY_MONTHS
    cutoff = (now or timezone.now()) - relativedelta(months=months)
    untied = GuideView.objects.filter(user__isnull=False, viewed_at__lt=cutoff).update(user=None)
    TimelineEvent.objects.filter(
        kind=TimelineEvent.Kind.GUIDE_VIEW, occurred_at__lt=cutoff
    ).delete()
    return untied


def apply_retention(*, now: datetime | None = None) -> dict[str, int]:
    return {
        "email_bodies": expire_email_bodies(now=now),
        "ip_addresses": expire_ip_addresses(now=now),
        "reading_history": expire_reading_history(now=now),
    }
