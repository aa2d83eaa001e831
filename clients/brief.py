"""The prep brief: everything the coach wants to know before a call, on one page and by email.

Each part reads an app that may have no data yet; an empty part is simply empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q
from django.urls import reverse

from clients.models import Contact, Engagement, Note, Task


@dataclass
class Brief:
    booking: Any
    contact: Contact | None
    answers: list[tuple[str, str]]
    purchases: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    newsletter: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    open_tasks: list[Task] = field(default_factory=list)
    engagements: list[Engagement] = field(default_factory=list)
    past_calls: dict[str, int] = field(default_factory=dict)

    @property
    def credits_left(self) -> int:
        return sum(e.credits_left for e in self.engagements if e.status == Engagement.Status.ACTIVE)


def answer_lines(booking: Any) -> list[tuple[str, str]]:
    labels = {
        q.get("key"): q.get("label", q.get("key")) for q in booking.event_type.intake_questions
    }
    return [(str(labels.get(k, k)), str(v)) for k, v in (booking.answers or {}).items()]


def build_brief(booking: Any) -> Brief:
    from bookings.models import Booking
    from guides.models import GuideView
    from newsletter.models import Click, Delivery, Subscriber
    from store.models import Order

    email = (booking.email or "").lower()
    contact = (
        Contact.objects.select_related("stage", "pipeline", "user").filter(email=email).first()
    )
    user_id = booking.user_id or (contact.user_id if contact else None)
    brief = Brief(booking=booking, contact=contact, answers=answer_lines(booking))

    orders = Order.objects.filter(paid_at__isnull=False).filter(
        Q(email__iexact=email) | Q(user_id=user_id) if user_id else Q(email__iexact=email)
    )
    for order in orders.prefetch_related("items").order_by("-paid_at")[:10]:
        brief.purchases.append(
            {
                "when": order.paid_at,
                "what": ", ".join(i.title for i in order.items.all()),
                "total": order.total_display,
                "status": order.get_status_display(),
            }
        )
    if user_id:
        reads = (
            GuideView.objects.filter(user_id=user_id)
            .values("guide__title", "guide__slug")
            .annotate(times=Count("pk"), last=Max("viewed_at"))
            .order_by("-last")[:10]
        )
        brief.reads = [
            {
                "title": r["guide__title"],
                "url": f"/guides/{r['guide__slug']}/",
                "times": r["times"],
                "last": r["last"],
            }
            for r in reads
        ]
    subscriber = Subscriber.objects.filter(email_lower=email).first()
    if subscriber is not None:
        sent = Delivery.objects.filter(subscriber=subscriber, sent_at__isnull=False).aggregate(
            sent=Count("pk"), opened=Count("pk", filter=Q(opened_at__isnull=False))
        )
        brief.newsletter = {
            "status": subscriber.get_status_display(),
            "since": subscriber.confirmed_at,
            "sent": sent["sent"],
            "opened": sent["opened"],
            "clicks": Click.objects.filter(delivery__subscriber=subscriber).count(),
        }
    if contact is not None:
        brief.notes = list(contact.notes.all()[:5])
        brief.open_tasks = list(contact.tasks.open().order_by("due_on")[:10])
        brief.engagements = list(contact.engagements.all()[:5])
    past = Booking.objects.filter(email__iexact=email, start__lt=booking.start).exclude(
        pk=booking.pk
    )
    brief.past_calls = past.aggregate(
        total=Count("pk", filter=Q(status__in=Booking.SETTLED_OUTCOMES)),
        no_shows=Count("pk", filter=Q(status=Booking.Status.NO_SHOW)),
    )
    return brief


def brief_url(booking: Any) -> str:
    return f"{settings.SITE_URL}{reverse('admin:clients_contact_brief', args=[booking.pk])}"


def prep_brief_section(booking: Any) -> list[tuple[str, list[str]]]:
    """What clients adds to the prep brief email (registered with bookings in apps.py)."""
    brief = build_brief(booking)
    contact = brief.contact
    record = [f"Full brief: {brief_url(booking)}"]
    if contact is not None:
        record.append(f"Stage: {contact.stage.name if contact.stage else 'none'}")
        if contact.source:
            source = contact.get_source_display()
            record.append(
                f"Source: {source}"
                + (f" ({contact.source_detail})" if contact.source_detail else "")
            )
        record.append(f"Credits left: {brief.credits_left}")
    if brief.past_calls.get("total"):
        record.append(
            f"Past calls: {brief.past_calls['total']} ({brief.past_calls['no_shows']} no-show)"
        )
    sections = [("Client record", record)]
    if brief.purchases:
        lines = [f"{p['when']:%d %b %Y}: {p['what']} ({p['total']})" for p in brief.purchases]
        sections.append(("Bought", lines))
    if brief.reads:
        sections.append(("Read", [f"{r['title']} ({r['times']}×)" for r in brief.reads]))
    if brief.newsletter:
        n = brief.newsletter
        sections.append(
            (
                "Newsletter",
                [f"{n['status']}: {n['sent']} sent, {n['opened']} opened, {n['clicks']} clicks"],
            )
        )
    if brief.notes:
        sections.append(("Notes", [note.body[:200] for note in brief.notes]))
    if brief.open_tasks:
        sections.append(
            ("Open tasks", [f"{t.title} (due {t.due_on:%d %b})" for t in brief.open_tasks])
        )
    return sections
