"""Newsletter workflows: subscribing, confirming, leaving, and starting a send."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db import connection as db
from django.utils import timezone

from coaching.tasks import enqueue_on_commit
from newsletter import emails
from newsletter.models import (
    Campaign,
    Click,
    Delivery,
    Feedback,
    Link,
    MailingList,
    Open,
    Subscriber,
    Subscription,
    Suppression,
    erased_marker,
    valid_time_zone,
)
from newsletter.reports import machine_signature
from newsletter.segments import segment_queryset

log = logging.getLogger(__name__)

CONSENT_TEXT = (
    "Weekly emails on AI roles, interviews and career strategy, and the lists ticked. "
    "No spam. Unsubscribe anytime."
)


# --- Subscribing -----------------------------------------------------------------


@transaction.atomic
def subscribe(
    *,
    email: str,
    lists: list[MailingList],
    source: str,
    ip: str | None,
    time_zone: str = "",
    name: str = "",
    consent_text: str = CONSENT_TEXT,
    joined_through: MailingList | None = None,
) -> Subscriber:
    """Record consent and start the double opt-in. Safe to call again for the same address.

    `joined_through` is the public list whose own form was used (?list=<slug>): its
    subscription is marked so that confirming grants the list's lead magnet.

    Nothing here reveals whether the address was known: the caller shows the
    same "check your inbox" page either way.
    """
    email = email.strip()
    subscriber = Subscriber.objects.select_for_update().filter(email_lower=email.lower()).first()
    if subscriber is None:
        try:
            with transaction.atomic():
                subscriber = Subscriber.objects.create(
                    email=email,
                    name=name[:150],
                    time_zone=time_zone if valid_time_zone(time_zone) else "",
                    consent_at=timezone.now(),
                    consent_ip=ip,
                    consent_source=source[:120],
                    consent_text=consent_text,
                )
        except IntegrityError:  # a concurrent post for the same address won
            subscriber = Subscriber.objects.select_for_update().get(email_lower=email.lower())
    elif subscriber.status in {Subscriber.Status.UNSUBSCRIBED}:
        subscriber.restart_opt_in()
    if subscriber.status == Subscriber.Status.PENDING:
        # Consent is what the person saw this time.
        subscriber.consent_at = timezone.now()
        subscriber.consent_ip = ip
        subscriber.consent_source = source[:120]
        subscriber.consent_text = consent_text
        if valid_time_zone(time_zone) and not subscriber.time_zone:
            subscriber.time_zone = time_zone
        subscriber.save(
            update_fields=[
                "consent_at",
                "consent_ip",
                "consent_source",
                "consent_text",
                "time_zone",
            ]
        )
        if joined_through is not None and joined_through not in lists:
            lists = [*lists, joined_through]
        for mailing_list in lists:
            marks = {"via_list_form": True} if mailing_list == joined_through else {}
            Subscription.objects.update_or_create(
                subscriber=subscriber,
                mailing_list=mailing_list,
                defaults={
                    "status": Subscription.Status.SUBSCRIBED,
                    "changed_at": timezone.now(),
                    **marks,
                },
            )
        send_confirmation(subscriber=subscriber)
    elif subscriber.status == Subscriber.Status.CONFIRMED:
        # Already confirmed: lists ticked now need no new opt-in beyond the
        # address's owner, so tell the owner rather than change anything.
        emails.already_subscribed(subscriber)
    return subscriber


def send_confirmation(*, subscriber: Subscriber) -> None:
    """At most one confirmation per address per hour (a forged form cannot mail-bomb).

    Never to an address whose owner asked to be erased (see clients/privacy.py)."""
    if Suppression.objects.filter(email=erased_marker(subscriber.email)).exists():
        return
    now = timezone.now()
    if subscriber.confirmation_sent_at and now - subscriber.confirmation_sent_at < dt.timedelta(
        hours=1
    ):
        return
    subscriber.confirmation_sent_at = now
    subscriber.save(update_fields=["confirmation_sent_at"])
    emails.confirm_subscription(subscriber)


@transaction.atomic
def confirm(*, subscriber_id: int) -> Subscriber | None:
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None:
        return None
    if subscriber.confirm():
        # A confirmed opt-in lifts an earlier unsubscribe (not a bounce or complaint).
        Suppression.objects.filter(
            email=subscriber.email_lower, reason=Suppression.Reason.UNSUBSCRIBED
        ).delete()
        from newsletter.welcome import grant_lead_magnets, schedule_welcome_sequence

        granted = grant_lead_magnets(subscriber=subscriber)
        schedule_welcome_sequence(subscriber=subscriber)
        emails.welcome(subscriber, granted=granted)
    return subscriber


@transaction.atomic
def unsubscribe(*, subscriber: Subscriber, reason: str = "one-click") -> bool:
    """Leave every list at once and add the address to the suppression list."""
    changed = subscriber.unsubscribe()
    Subscription.objects.filter(subscriber=subscriber).update(
        status=Subscription.Status.UNSUBSCRIBED, changed_at=timezone.now()
    )
    suppress(email=subscriber.email, reason=Suppression.Reason.UNSUBSCRIBED, detail=reason)
    if changed:
        credit_feedback(email=subscriber.email, kind=Feedback.Kind.UNSUBSCRIBED, detail=reason)
    return changed


@transaction.atomic
def update_preferences(
    *, subscriber: Subscriber, lists: list[MailingList], time_zone: str = ""
) -> None:
    """Join or leave lists among those the person may choose (MailingList.objects.
    choosable_by): public ones and the ones they already hold; others stay as they are."""
    chosen = {m.pk for m in lists}
    for mailing_list in MailingList.objects.choosable_by(subscriber):
        wanted = mailing_list.pk in chosen
        existing = Subscription.objects.filter(
            subscriber=subscriber, mailing_list=mailing_list
        ).first()
        if existing is None and wanted:
            Subscription.objects.create(subscriber=subscriber, mailing_list=mailing_list)
        elif existing is not None:
            status = Subscription.Status.SUBSCRIBED if wanted else Subscription.Status.UNSUBSCRIBED
            if existing.status != status:
                existing.status = status
                existing.changed_at = timezone.now()
                existing.save(update_fields=["status", "changed_at"])
    if valid_time_zone(time_zone) and time_zone != subscriber.time_zone:
        subscriber.time_zone = time_zone
        subscriber.save(update_fields=["time_zone"])


def suppress(*, email: str, reason: str, detail: str = "") -> Suppression:
    suppression, _ = Suppression.objects.get_or_create(
        email=email.lower(), defaults={"reason": reason, "detail": detail[:300]}
    )
    return suppression


@transaction.atomic
def record_bounce(*, email: str, hard: bool, detail: str = "") -> None:
    """Hard bounces suppress at once; soft ones after `NEWSLETTER_SOFT_BOUNCE_LIMIT`."""
    subscriber = Subscriber.objects.select_for_update().filter(email_lower=email.lower()).first()
    if hard:
        # A soft bounce is a delay, not a lost message: only a hard one counts as bounced.
        credit_feedback(email=email, kind=Feedback.Kind.BOUNCED, detail=detail)
        suppress(email=email, reason=Suppression.Reason.HARD_BOUNCE, detail=detail)
        if subscriber:
            Subscriber.objects.filter(pk=subscriber.pk).update(status=Subscriber.Status.BOUNCED)
        return
    if subscriber is None:
        return
    subscriber.soft_bounces += 1
    subscriber.save(update_fields=["soft_bounces"])
    if subscriber.soft_bounces >= settings.NEWSLETTER_SOFT_BOUNCE_LIMIT:
        suppress(email=email, reason=Suppression.Reason.SOFT_BOUNCES, detail=detail)
        Subscriber.objects.filter(pk=subscriber.pk).update(status=Subscriber.Status.BOUNCED)


@transaction.atomic
def record_complaint(*, email: str, detail: str = "") -> None:
    suppress(email=email, reason=Suppression.Reason.COMPLAINT, detail=detail)
    credit_feedback(email=email, kind=Feedback.Kind.COMPLAINED, detail=detail)
    Subscriber.objects.filter(email_lower=email.lower()).update(status=Subscriber.Status.COMPLAINED)


def record_click(
    *, delivery_id: int, link_id: int, user_agent: str = "", ip: str | None = None
) -> str | None:
    link = Link.objects.filter(pk=link_id).first()
    delivery = Delivery.objects.filter(pk=delivery_id).select_related("subscriber").first()
    if link is None or delivery is None or link.campaign_id != delivery.campaign_id:
        return None
    Click.objects.create(delivery=delivery, link=link, user_agent=user_agent[:300], ip=ip)
    # A scanner's click says nothing of the person: it must not keep them "engaged".
    if not machine_signature(user_agent, ip):
        delivery.subscriber.mark_engaged()
    return link.url


def record_open(*, delivery_id: int, user_agent: str = "", ip: str | None = None) -> None:
    now = timezone.now()
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return
    Open.objects.create(delivery=delivery, opened_at=now, user_agent=user_agent[:300], ip=ip)
    Delivery.objects.filter(pk=delivery_id, opened_at__isnull=True).update(opened_at=now)
    if not machine_signature(user_agent, ip):
        Subscriber.objects.filter(pk=delivery.subscriber_id).update(last_engaged_at=now)


# Feedback arrives about an address, not a message: it is credited to the latest
# campaign message sent to that address within this many days.
FEEDBACK_DAYS = 30


def credit_feedback(*, email: str, kind: str, detail: str = "") -> Feedback | None:
    """A bounce, complaint or unsubscribe, counted in the report of the campaign it answers."""
    since = timezone.now() - dt.timedelta(days=FEEDBACK_DAYS)
    delivery = (
        Delivery.objects.filter(
            subscriber__email_lower=email.strip().lower(),
            status=Delivery.Status.SENT,
            sent_at__gte=since,
        )
        .order_by("-sent_at", "-pk")
        .first()
    )
    if delivery is None:
        return None
    feedback, _ = Feedback.objects.get_or_create(
        delivery=delivery, kind=kind, defaults={"detail": detail[:300]}
    )
    return feedback


def send_confirmation_reminders(*, limit: int = 500) -> int:
    """Beat: one reminder, 24 hours after an unconfirmed signup."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.NEWSLETTER_REMINDER_AFTER_HOURS)
    sent = 0
    for subscriber_id in Subscriber.objects.awaiting_reminder(older_than=cutoff).values_list(
        "pk", flat=True
    )[:limit]:
        with transaction.atomic():
            subscriber = (
                Subscriber.objects.select_for_update(skip_locked=True)
                .awaiting_reminder(older_than=cutoff)
                .filter(pk=subscriber_id)
                .first()
            )
            if subscriber is None:
                continue
            subscriber.reminder_sent_at = timezone.now()
            subscriber.save(update_fields=["reminder_sent_at"])
            emails.confirmation_reminder(subscriber)
            sent += 1
    return sent


# --- Campaigns -------------------------------------------------------------------


def start_campaign(*, campaign: Campaign) -> bool:
    """The admin's send button: a guarded status change and a task. Returns at once.

    "At a set time" waits for beat; "now" and "local hour" fill the ledger now
    (local-hour rows carry each recipient's own due time).
    """
    if campaign.schedule == Campaign.Schedule.AT and (
        campaign.scheduled_at and campaign.scheduled_at > timezone.now()
    ):
        return campaign.mark_scheduled()
    with transaction.atomic():
        if not campaign.mark_preparing():
            return False
        from newsletter.tasks import fill_ledger_task

        enqueue_on_commit(fill_ledger_task, campaign.pk)
    return True


def pause_campaign(*, campaign: Campaign) -> bool:
    return campaign.pause("Paused by the coach")


def resume_campaign(*, campaign: Campaign) -> bool:
    with transaction.atomic():
        if not campaign.resume():
            return False
        from newsletter.tasks import send_campaign_task

        for _ in range(settings.NEWSLETTER_SENDERS_PER_CAMPAIGN):
            enqueue_on_commit(send_campaign_task, campaign.pk)
    return True


def cancel_campaign(*, campaign: Campaign) -> bool:
    return campaign.cancel()


def fill_ledger(*, campaign: Campaign) -> int:
    """One ledger row per recipient, in INSERT ... SELECT statements (idempotent)."""
    campaign = Campaign.objects.select_related("mailing_list").get(pk=campaign.pk)
    if campaign.status != Campaign.Status.PREPARING:
        return 0
    recipients = segment_queryset(campaign)
    inserted = 0
    if campaign.schedule == Campaign.Schedule.LOCAL:
        for zone_name, due_at in _local_due_times(campaign, recipients).items():
            group = recipients.filter(time_zone=zone_name)
            inserted += _insert_rows(campaign, group, due_at)
    else:
        inserted = _insert_rows(campaign, recipients, timezone.now())
    if campaign.subject_b:
        from newsletter.abtest import split_sample

        split_sample(campaign=campaign)  # before any sender can claim a row
    with db.cursor() as cursor:
        # Fresh statistics before the senders plan their per-message statements
        # (prepared once per connection): planned on a table autovacuum had not
        # analyzed yet, the subscription check scanned the whole list for every
        # message (EXPLAIN on the bench data, `make bench ARGS=newsletter_send`).
        cursor.execute(
            "ANALYZE newsletter_delivery, newsletter_subscription, newsletter_subscriber"
        )
    from newsletter.rendering import prepare

    prepare(campaign)  # creates the link rows once, before senders race for them
    with transaction.atomic():
        if campaign.mark_sending():
            from newsletter.tasks import send_campaign_task

            for _ in range(settings.NEWSLETTER_SENDERS_PER_CAMPAIGN):
                enqueue_on_commit(send_campaign_task, campaign.pk)
    return inserted


def _local_due_times(campaign: Campaign, recipients: Any) -> dict[str, dt.datetime]:
    """For each time zone among the recipients, the moment it is `local_hour` there."""
    coach_zone = zoneinfo.ZoneInfo(settings.COACH_TIME_ZONE)
    day = (campaign.scheduled_at or timezone.now()).astimezone(coach_zone).date()
    hour = campaign.local_hour if campaign.local_hour is not None else 9
    due: dict[str, dt.datetime] = {}
    for name in recipients.order_by().values_list("time_zone", flat=True).distinct():
        zone = zoneinfo.ZoneInfo(name) if valid_time_zone(name) else coach_zone
        due[name] = dt.datetime.combine(day, dt.time(hour), tzinfo=zone)
    return due


def _insert_rows(campaign: Campaign, recipients: Any, due_at: dt.datetime) -> int:
    sql, params = recipients.order_by().values("pk").query.sql_with_params()
    with db.cursor() as cursor:
        # The inner SELECT is the ORM's own SQL with its parameters kept apart.
        insert = (
            "INSERT INTO newsletter_delivery "  # noqa: S608
            "(campaign_id, subscriber_id, status, due_at, attempts, error, created_at) "
            f"SELECT %s, r.pk, 'pending', %s, 0, '', now() FROM ({sql}) AS r "
            "ON CONFLICT (campaign_id, subscriber_id) DO NOTHING"
        )
        cursor.execute(insert, [campaign.pk, due_at, *params])
        return cursor.rowcount


def send_test(*, campaign: Campaign, to: str) -> None:
    """A test send to the coach: real links, no tracking, not in the ledger."""
    from django.core.mail import mailers

    from newsletter.rendering import campaign_email, prepare

    prepared = prepare(campaign)
    prepared.subject = f"[Test] {prepared.subject}"
    subscriber = Subscriber.objects.filter(email_lower=to.lower()).first()
    message = campaign_email(
        prepared,
        to=to,
        delivery_id=None,
        subscriber_id=subscriber.pk if subscriber else 0,
    )
    mailers.default.send_messages([message])


def dispatch_due() -> dict[str, int]:
    """Beat: start scheduled campaigns, re-fill stalled ledgers, (re)start senders.

    This is also how a send survives a killed worker: its task message may sit
    unacknowledged in Redis for an hour, but its claimed rows come back after the
    lease, and this sweep starts senders for any campaign with due rows.
    """
    from newsletter.tasks import fill_ledger_task, send_campaign_task

    started = restarted = 0
    for campaign in Campaign.objects.due_to_start():
        if start_campaign(campaign=campaign):
            started += 1
    stale = timezone.now() - dt.timedelta(minutes=2)
    for campaign_id in Campaign.objects.filter(
        status=Campaign.Status.PREPARING, started_at__lt=stale
    ).values_list("pk", flat=True):
        enqueue_on_commit(fill_ledger_task, campaign_id)
    now = timezone.now()
    sending = Campaign.objects.filter(status=Campaign.Status.SENDING).values_list("pk", flat=True)
    for campaign_id in sending:
        claimable = Delivery.objects.filter(campaign_id=campaign_id, due_at__lte=now).filter(
            status=Delivery.Status.PENDING
        ) | Delivery.objects.filter(
            campaign_id=campaign_id, status=Delivery.Status.SENDING, lease_until__lt=now
        )
        if claimable.exists():
            for _ in range(settings.NEWSLETTER_SENDERS_PER_CAMPAIGN):
                enqueue_on_commit(send_campaign_task, campaign_id)
            restarted += 1
        else:
            from newsletter.sending import finish_if_done

            finish_if_done(campaign_id)
    return {"started": started, "restarted": restarted}
