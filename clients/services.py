"""Workflows across contacts, stages, engagements and sessions (keyword-only verbs)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from clients.models import (
    ClientsError,
    Contact,
    Engagement,
    Note,
    Pipeline,
    Session,
    Source,
    Stage,
    StageChange,
    Task,
)

log = logging.getLogger(__name__)


def contact_for(
    *,
    email: str,
    name: str = "",
    time_zone: str = "",
    user: Any = None,
    source: str = "",
    detail: str = "",
    now: datetime | None = None,
) -> Contact | None:
    """The contact for an email, made (in the default pipeline's first stage) when new.

    Blank fields are filled from what we learn; the first source sticks. Staff
    accounts are the coach's own, not contacts.
    """
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        return None
    if user is not None and getattr(user, "is_staff", False):
        return None
    now = now or timezone.now()
    with transaction.atomic():
        # A signed-in person is one contact whatever email they type into a form.
        by_account = (
            Contact.objects.select_for_update().filter(user=user).first()
            if getattr(user, "pk", None)
            else None
        )
        if by_account is not None and by_account.email != email:
            if source:
                by_account.set_source(source, detail, at=now)
            return by_account
        contact, created = Contact.objects.select_for_update().get_or_create(
            email=email,
            defaults={
                "name": name[:150],
                "time_zone": time_zone[:64],
                "user": user if getattr(user, "pk", None) else None,
                "source": source,
                "source_detail": detail[:200],
                "created_at": now,
                "last_activity_at": now,
            },
        )
        if created:
            pipeline = Pipeline.objects.default()
            first = pipeline.stage_for(Stage.Role.LEAD) or pipeline.first_stage()
            if first is not None:
                contact.move_to(first, automatic=True, reason="New contact", now=now)
            return contact
        changed: list[str] = []
        if name and not contact.name:
            contact.name, changed = name[:150], [*changed, "name"]
        if time_zone and not contact.time_zone:
            contact.time_zone, changed = time_zone[:64], [*changed, "time_zone"]
        if getattr(user, "pk", None) and contact.user_id is None:
            taken = Contact.objects.filter(user=user).exclude(pk=contact.pk).exists()
            if not taken:
                contact.user, changed = user, [*changed, "user"]
        if changed:
            contact.save(update_fields=changed)
        if source:
            contact.set_source(source, detail, at=now)
    return contact


def receive_contact_message(
    *, name: str, email: str, topic: str, message: str, user: Any = None
) -> Contact | None:
    """Someone wrote through /contact/: the contact is made or found (the first source
    sticks), the message is kept as a private note, the coach gets a task to reply by
    tomorrow and an email now. All or nothing, and the email goes after commit."""
    from clients.emails import send_contact_notice

    now = timezone.now()
    with transaction.atomic():
        contact = contact_for(
            email=email, name=name, user=user, source=Source.CONTACT_FORM, detail=topic, now=now
        )
        if contact is None:
            return None
        note = Note.objects.create(
            contact=contact, body=f"Contact form, {topic}:\n\n{message}", created_at=now
        )
        task = Task.objects.create(
            contact=contact,
            title=f"Reply to {contact.display_name} ({topic})"[:200],
            due_on=timezone.localdate(now) + timedelta(days=1),
            created_at=now,
        )
        contact.touch(now)
        send_contact_notice(contact=contact, note=note, task=task, topic=topic, message=message)
    return contact


def advance(
    *, contact: Contact, role: str, reason: str, now: datetime | None = None
) -> StageChange | None:
    """An automatic move to the stage with this role in the contact's pipeline.

    Automation only moves forward (or out of a lost stage): a client who books
    another discovery call is not sent back to "Discovery call booked". The
    coach's own moves are never limited this way.
    """
    pipeline = contact.pipeline or Pipeline.objects.default()
    target = pipeline.stage_for(role)
    if target is None or target.pk == contact.stage_id:
        return None
    current = contact.stage
    if current is not None and not current.is_lost and current.position >= target.position:
        return None
    return contact.move_to(target, automatic=True, reason=reason, now=now)


def move_contact(*, contact: Contact, stage: Stage, by: Any, reason: str = "") -> StageChange:
    """The coach moves a contact (board, select or form). Raises ClientsError when refused."""
    change = contact.move_to(stage, by=by, reason=reason)
    if change is None:
        raise ClientsError(f"{contact} is already in “{stage.name}”.")
    return change


# --- Engagements and credits ---------------------------------------------------------


def open_engagement_for_grant(*, grant: Any) -> Engagement | None:
    """A coaching package was bought: its credits become an engagement. Idempotent."""
    existing = Engagement.objects.filter(credit_grant=grant).first()
    if existing is not None:
        return existing
    user = grant.user
    contact = contact_for(
        email=user.email,
        name=user.name,
        user=user,
        source=Source.PURCHASE,
        detail=grant.product.title,
    )
    if contact is None:
        return None
    engagement = Engagement.objects.create(
        contact=contact,
        title=grant.product.title,
        credit_grant=grant,
        credits_total=grant.total,
        credits_used=0,
        expires_at=grant.expires_at,
        started_at=grant.created_at or timezone.now(),
    )
    advance(contact=contact, role=Stage.Role.CLIENT, reason=f"Bought {grant.product.title}")
    return engagement


def active_engagement(contact: Contact) -> Engagement | None:
    now = timezone.now()
    for engagement in contact.engagements.filter(status=Engagement.Status.ACTIVE).order_by(
        "started_at", "pk"
    ):
        if engagement.credits_left > 0 and (
            engagement.expires_at is None or engagement.expires_at > now
        ):
            return engagement
    return None


def session_for_booking(*, booking: Any, contact: Contact) -> Session | None:
    """A package booking becomes a session of the contact's current engagement."""
    session = Session.objects.filter(booking=booking).first()
    if session is not None:
        if session.starts_at != booking.start:
            session.starts_at = booking.start
            session.save(update_fields=["starts_at"])
        return session
    engagement = active_engagement(contact)
    return Session.objects.create(
        contact=contact, engagement=engagement, booking=booking, starts_at=booking.start
    )


def record_session_outcome(*, session: Session, outcome: str, by: Any = None) -> Session:
    """Set a session's outcome and settle its credit by the engagement's policy.

    Idempotent and correctable: marking a no-show as completed later uses a
    credit only if the no-show had not; the reverse gives it back.
    """
    if outcome not in Session.Outcome.values:
        raise ClientsError(f"{outcome} is not a session outcome.")
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        session.outcome = outcome
        engagement = session.engagement
        reference = f"session-{session.pk}"
        booking = session.booking
        if engagement is not None and booking is not None and booking.credit_grant_id:
            # Booked online with a credit: bookings charged the store's grant (and gives
            # it back on a timely cancellation) under the event type's policy. The
            # engagement follows that record instead of charging the grant again.
            follows = booking.credit_returned_at is None
            if follows and not session.used_credit:
                session.used_credit = engagement.use_credit(
                    reason="Session booked with a credit",
                    by=by,
                    reference=reference,
                    mirror=False,
                )
            elif (
                not follows
                and session.used_credit
                and engagement.give_back_credit(
                    reason="Cancelled in time", by=by, reference=reference, mirror=False
                )
            ):
                session.used_credit = False
        elif engagement is not None:
            wanted = engagement.uses_credit_for(outcome)
            label = Session.Outcome(outcome).label
            if wanted and not session.used_credit:
                session.used_credit = engagement.use_credit(
                    reason=f"Session {label.lower()}", by=by, reference=reference
                )
            elif (
                not wanted
                and session.used_credit
                and engagement.give_back_credit(
                    reason=f"Session now {label.lower()}: no credit by policy",
                    by=by,
                    reference=reference,
                )
            ):
                session.used_credit = False
        session.save(update_fields=["outcome", "used_credit"])
        if engagement is not None:
            finish_if_used_up(engagement=engagement)
    return session


def give_back_credit(*, session: Session, reason: str, by: Any) -> bool:
    """The coach returns a session's credit (with a reason, recorded in the ledger)."""
    with transaction.atomic():
        session = Session.objects.select_for_update().get(pk=session.pk)
        if not session.used_credit or session.engagement is None:
            return False
        if not session.engagement.give_back_credit(
            reason=reason, by=by, reference=f"session-{session.pk}"
        ):
            return False
        session.used_credit = False
        session.save(update_fields=["used_credit"])
    return True


def finish_if_used_up(*, engagement: Engagement) -> bool:
    """The last credit used: the engagement completes and the contact moves to Completed."""
    engagement.refresh_from_db(fields=["credits_used", "credits_expired", "status"])
    if engagement.credits_left > 0 or engagement.status != Engagement.Status.ACTIVE:
        return False
    if engagement.sessions.filter(outcome=Session.Outcome.SCHEDULED).exists():
        return False
    engagement.mark_completed()
    contact = engagement.contact
    if active_engagement(contact) is None:
        advance(contact=contact, role=Stage.Role.COMPLETED, reason=f"Finished {engagement.title}")
    return True


def expire_engagements(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    total = 0
    for engagement in Engagement.objects.filter(
        status=Engagement.Status.ACTIVE, expires_at__lte=now
    ):
        total += engagement.expire_unused(now=now)
        finish_if_used_up(engagement=engagement)
    return total
