"""A/B subject tests: two subjects to a sample, the winner by clicks goes to the rest.

It rides on the ledger as it is (newsletter/sending.py), changing no part of how
a row is claimed or marked sent:
1. `fill_ledger` makes every row as usual; `split_sample` then gives half of a
   random sample subject A and half subject B (`Delivery.variant` "a"/"b"), and
   moves the other rows' due time to `HOLD`, so no sender claims them yet.
2. The senders send the sample, each row with its variant's subject.
3. After `ab_wait_hours`, beat's `decide_winner` counts people who clicked (a
   scanner's clicks do not count; newsletter/reports.py) per subject, not
   opens, which privacy proxies make meaningless. More clickers wins; a tie
   keeps the campaign's own subject. The rest get the winner ("A"/"B") and
   become due now, and senders start.
The winner is written once, by a conditional UPDATE on the campaign row, so two
beat ticks cannot pick two winners.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection as db
from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from coaching.tasks import enqueue_on_commit
from newsletter import reports
from newsletter.models import AB_HOLD, Campaign, Delivery

HOLD = AB_HOLD  # "not before the winner is known"

SPLIT_SQL = """
WITH picked AS (
  SELECT id, row_number() OVER (ORDER BY md5(id::text), id) AS n
    FROM newsletter_delivery
   WHERE campaign_id = %(campaign)s AND status = 'pending' AND variant = ''
)
UPDATE newsletter_delivery AS d
   SET variant = CASE WHEN p.n %% 2 = 1 THEN 'a' ELSE 'b' END
  FROM picked AS p
 WHERE d.id = p.id AND p.n <= %(sample)s
"""


def sample_size(total: int, percent: int) -> int:
    """At least one person per subject, never more than everyone."""
    return min(total, max(2, round(total * percent / 100)))


def split_sample(*, campaign: Campaign) -> int:
    """Give a sample its subjects and hold the rest; safe to repeat (a re-filled ledger)."""
    if not campaign.subject_b:
        return 0
    with transaction.atomic():
        row = Campaign.objects.select_for_update().get(pk=campaign.pk)
        rows = Delivery.objects.filter(campaign=row)
        split = 0
        if not rows.filter(variant__in=["a", "b"]).exists():
            size = sample_size(rows.count(), row.ab_sample_percent)
            with db.cursor() as cursor:
                cursor.execute(SPLIT_SQL, {"campaign": row.pk, "sample": size})
                split = cursor.rowcount
        if not row.ab_winner:
            rows.filter(variant="", status=Delivery.Status.PENDING).update(due_at=HOLD)
    return split


def clickers_per_variant(campaign: Campaign) -> dict[str, int]:
    human = reports.human_clickers(campaign.pk)
    counts = {"a": 0, "b": 0}
    for pk, variant in Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.SENT, variant__in=["a", "b"]
    ).values_list("pk", "variant"):
        counts[variant] += pk in human
    return counts


def decide_winner(*, campaign_id: int, now: dt.datetime | None = None) -> str:
    """The winning variant ("a" or "b") once the wait is over, or "" (not yet, or done)."""
    now = now or timezone.now()
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or not campaign.subject_b or campaign.ab_winner:
        return ""
    if campaign.status != Campaign.Status.SENDING or campaign.started_at is None:
        return ""
    if campaign.started_at + dt.timedelta(hours=campaign.ab_wait_hours) > now:
        return ""
    counts = clickers_per_variant(campaign)
    winner = "b" if counts["b"] > counts["a"] else "a"
    with transaction.atomic():
        won = Campaign.objects.filter(pk=campaign.pk, ab_winner="").update(
            ab_winner=winner, ab_decided_at=now
        )
        if not won:
            return ""
        Delivery.objects.filter(
            campaign=campaign, status=Delivery.Status.PENDING, variant=""
        ).update(variant=winner.upper(), due_at=Now())  # the database's clock, as senders claim by
        from newsletter.tasks import send_campaign_task

        enqueue_on_commit(send_campaign_task, campaign.pk)
    return winner


def decide_due_tests(*, now: dt.datetime | None = None) -> list[str]:
    """Beat: every sending campaign whose test has waited long enough."""
    waiting = Campaign.objects.filter(status=Campaign.Status.SENDING, ab_winner="").exclude(
        subject_b=""
    )
    return [
        winner
        for campaign_id in waiting.values_list("pk", flat=True)
        if (winner := decide_winner(campaign_id=campaign_id, now=now))
    ]
