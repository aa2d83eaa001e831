"""Demo workspace: two pipelines, 25 contacts across the stages with notes, follow-ups, a
package with credits, career outcomes (two offers), a few paid orders for the charts, and
the timeline backfilled from the other apps' demo data. Idempotent: keyed by email."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from clients import services, timeline
from clients.models import Contact, Engagement, Note, Outcome, Pipeline, Session, Source, Task

DISCOVERY = "Discovery call booked"

# (first name, last name, company, source, detail, pipeline, stage, days ago first seen)
PEOPLE = [
    ("Maya", "Okafor", "", Source.GUIDE, "The AI engineer interview loop", 0, "Client", 70),
    ("Tomás", "Reyes", "", Source.NEWSLETTER, "weekly letter", 0, DISCOVERY, 20),
    ("Aiko", "Tanaka", "", Source.REFERRAL, "from Maya Okafor", 0, "Proposal sent", 30),
    ("Leon", "Fischer", "", Source.BOOKING, "Discovery call", 0, "New lead", 3),
    ("Priya", "Raman", "", Source.GUIDE, "Prompt engineering portfolio", 0, "Completed", 150),
    ("Jonah", "Berg", "", Source.PURCHASE, "AI Engineer study guide", 0, "New lead", 6),
    ("Sofia", "Marin", "", Source.NEWSLETTER, "weekly letter", 0, "Lost", 60),
    ("Kwame", "Mensah", "", Source.REFERRAL, "LinkedIn post", 0, "Client", 45),
    ("Elena", "Petrova", "", Source.GUIDE, "From analyst to ML engineer", 0, DISCOVERY, 12),
    ("Ravi", "Iyer", "", Source.NEWSLETTER, "weekly letter", 0, "New lead", 2),
    ("Chloe", "Martin", "", Source.BOOKING, "Discovery call", 0, "Proposal sent", 25),
    ("Diego", "Alvarez", "", Source.GUIDE, "Negotiating an AI offer", 0, "Completed", 120),
    ("Hannah", "Schmidt", "", Source.REFERRAL, "from Kwame Mensah", 0, "New lead", 1),
    ("Yusuf", "Demir", "", Source.NEWSLETTER, "weekly letter", 0, DISCOVERY, 9),
    ("Grace", "Liu", "", Source.PURCHASE, "Three-session package", 0, "Client", 35),
    ("Omar", "Haddad", "", Source.GUIDE, "LLM system design", 0, "Lost", 80),
    ("Nina", "Kowalski", "", Source.IMPORT, "old spreadsheet", 0, "New lead", 40),
    ("Samuel", "Adeyemi", "", Source.BOOKING, "Discovery call", 0, "Proposal sent", 15),
    ("Lucia", "Romano", "", Source.NEWSLETTER, "weekly letter", 0, "Client", 55),
    ("Finn", "O'Brien", "", Source.GUIDE, "The AI engineer interview loop", 0, DISCOVERY, 5),
    ("Ana", "Costa", "", Source.REFERRAL, "conference talk", 0, "New lead", 4),
    ("Ingrid", "Larsen", "Nordlys", Source.REFERRAL, "ex-colleague", 1, "Scoping call", 18),
    ("Marcus", "Webb", "Brightpath Bank", Source.OTHER, "conference", 1, "Proposal", 28),
    ("Zara", "Ahmed", "Kite Health", Source.REFERRAL, "Ingrid Larsen", 1, "Booked", 50),
    ("Pierre", "Dubois", "Atelier Data", Source.OTHER, "website form", 1, "Enquiry", 7),
]  # fmt: skip

NOTES = [
    "Strong Python, little production ML. Wants AI engineer roles in London or remote.",
    "Interview loop at a fintech in two weeks: practise LLM system design first.",
    "Shared: read the evaluation chapter before our next call and draft two stories.",
]


def _email(first: str, last: str) -> str:
    return f"{first}.{last}".lower().replace("'", "").replace("á", "a") + "@clients.example.com"


def load(command: Any) -> str:
    pipelines = [Pipeline.objects.default(), *Pipeline.objects.filter(is_default=False)]
    now = timezone.now()
    created = 0
    contacts: list[Contact] = []
    for i, (first, last, company, source, detail, p, stage_name, days) in enumerate(PEOPLE):
        email = _email(first, last)
        existing = Contact.objects.filter(email=email).first()
        if existing is not None:
            contacts.append(existing)
            continue
        seen = now - timedelta(days=days, hours=i)
        contact = services.contact_for(
            email=email, name=f"{first} {last}", source=source, detail=detail,
            time_zone=["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata"][i % 4],
            now=seen,
        )  # fmt: skip
        assert contact is not None
        if company:
            contact.company = company
            contact.save(update_fields=["company"])
        pipeline = pipelines[min(p, len(pipelines) - 1)]
        path = list(pipeline.stages.order_by("position"))
        target = next((s for s in path if s.name == stage_name), path[0])
        # Walk the stages in order with realistic gaps, so time-in-stage has data.
        steps = [s for s in path if s.position <= target.position and not s.is_lost]
        if target.is_lost:
            steps = [*path[:2], target]
        step_days = days / max(1, len(steps))
        for n, stage in enumerate(steps):
            when = seen + timedelta(days=step_days * n, hours=1)
            reason = "No budget this quarter" if stage.is_lost else ""
            contact.move_to(stage, reason=reason, automatic=n == 0, now=when)
        _details(contact, i, seen)
        contacts.append(contact)
        created += 1
    _orders(contacts)
    counts = timeline.backfill(link_contacts=True)
    return (
        f"{created} new demo contacts ({Contact.objects.count()} in all), "
        f"{counts['events']} timeline events written"
    )


def _details(contact: Contact, i: int, seen: Any) -> None:
    Note.objects.create(contact=contact, body=NOTES[i % 2], created_at=seen + timedelta(days=1))
    if i % 3 == 0:
        Note.objects.create(
            contact=contact, body=NOTES[2], is_shared=True, created_at=seen + timedelta(days=2)
        )
    if i % 2 == 0:
        Task.objects.create(
            contact=contact,
            title=["Send the offer negotiation checklist", "Follow up after the call",
                   "Review the CV draft"][i % 3],
            due_on=timezone.localdate() + timedelta(days=(i % 5) - 2),
        )  # fmt: skip
    if contact.stage and contact.stage.role in {"client", "completed"}:
        total = 3 if contact.stage.role == "completed" else 5
        engagement = Engagement.objects.create(
            contact=contact, title=f"{total}-session coaching package", credits_total=total,
            started_at=seen + timedelta(days=5), expires_at=timezone.now() + timedelta(days=120),
        )  # fmt: skip
        used = total if contact.stage.role == "completed" else 2
        for n in range(used):
            session = Session.objects.create(
                contact=contact, engagement=engagement,
                starts_at=seen + timedelta(days=7 + 7 * n),
            )  # fmt: skip
            services.record_session_outcome(session=session, outcome="completed")
    outcomes = {
        0: [("application", "Monzo", "ML engineer"), ("interview", "Monzo", "ML engineer"),
            ("offer", "Monzo", "ML engineer")],
        4: [("goal", "", "AI engineer at a scale-up"), ("offer", "DeepCart", "Senior AI engineer")],
        7: [("interview", "Wayve", "Applied scientist")],
        11: [("application", "Synthesia", "AI product engineer")],
    }  # fmt: skip
    # Offers carry figures (the results dashboard reads them): base, bonus, pay before.
    figures = {0: (92_000, 8_000, 74_000), 4: (118_000, 12_000, 90_000)}
    for n, (kind, company, role) in enumerate(outcomes.get(i, [])):
        base, bonus, before = figures[i] if kind == "offer" else (None, None, None)
        outcome = Outcome.objects.create(
            contact=contact, kind=kind, company=company, role=role,
            level="Senior" if kind == "offer" and i == 4 else ("Mid" if kind == "offer" else ""),
            compensation_band="£95–110k" if kind == "offer" else "",
            base_salary=base, bonus=bonus, before_salary=before,
            engagement=contact.engagements.first() if kind == "offer" else None,
            occurred_on=(seen + timedelta(days=20 + 10 * n)).date(),
        )  # fmt: skip
        if kind == "offer" and i == 4:
            _demo_testimonial(outcome)


def _demo_testimonial(outcome: Outcome) -> None:
    """One approved testimonial (initials, company, figures), so /results/ has a story."""
    from clients import results
    from clients.models import TestimonialRequest

    request = TestimonialRequest.objects.create(outcome=outcome)
    results.answer_testimonial(
        request=request, name_shown="initials", show_company=True, show_figures=True,
        quote="We rebuilt my story around two shipped projects. Three weeks later I had "
        "two offers and negotiated the better one up by twelve thousand.",
    )  # fmt: skip
    results.approve_testimonial(request=request)


def _orders(contacts: list[Contact]) -> None:
    """A few paid orders over the last months, so revenue charts have something to show."""
    from store.models import Order, OrderItem, Product

    products = list(Product.objects.filter(is_active=True).prefetch_related("prices")[:4])
    if not products:
        return
    now = timezone.now()
    for n, contact in enumerate(contacts[:12]):
        number = f"DEMO-CL-{n:02d}"
        if Order.objects.filter(number=number).exists():
            continue
        product = products[n % len(products)]
        price = product.price
        amount = price.amount if price else 4900
        order = Order.objects.create(
            number=number, email=contact.email, status=Order.Status.PAID, subtotal=amount,
            total=amount, fulfilled_at=now,
        )  # fmt: skip
        OrderItem.objects.create(order=order, product=product, title=product.title,
                                 unit_amount=amount)  # fmt: skip
        paid = now - timedelta(days=12 * n + 2)
        Order.objects.filter(pk=order.pk).update(paid_at=paid, created_at=paid)
