"""A/B subject tests: a sample gets two subjects, the one more people clicked goes to the rest."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.utils import timezone

from newsletter import abtest, sending, services
from newsletter.models import Campaign, Click, Delivery, Link, Open
from tests.newsletter.factories import CampaignFactory, subscribe_many

pytestmark = pytest.mark.django_db
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"


@pytest.fixture(params=["smtp", "django"])
def transport(request: Any, settings: Any) -> str:
    settings.NEWSLETTER_TRANSPORT = request.param
    return request.param


def _subjects(sink: Any) -> Counter[str]:
    return Counter(str(make_header(decode_header(m["Subject"]))) for m in sink.parsed())


def _human_click(delivery: Delivery, link: Link, minutes: int = 30) -> None:
    Click.objects.create(
        delivery=delivery,
        link=link,
        user_agent=IPHONE,
        ip="203.0.113.4",
        clicked_at=(delivery.sent_at or timezone.now()) + dt.timedelta(minutes=minutes),
    )


def test_the_subject_more_people_clicked_in_goes_to_the_rest(
    smtp_settings: Any, weekly: Any, transport: str
) -> None:
    subscribe_many(weekly, 40)
    campaign = CampaignFactory(
        mailing_list=weekly,
        subject="Five interview questions",
        subject_b="The question that sank my interview",
        ab_sample_percent=50,
        ab_wait_hours=4,
    )
    assert services.start_campaign(campaign=campaign)  # eager: fills the ledger and sends
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING  # the rest wait for the winner
    rows = Delivery.objects.filter(campaign=campaign)
    assert Counter(rows.values_list("variant", flat=True)) == {"a": 10, "b": 10, "": 20}
    assert rows.filter(status="sent").count() == 20
    assert set(rows.filter(variant="").values_list("due_at", flat=True)) == {abtest.HOLD}
    assert _subjects(smtp_settings) == {campaign.subject: 10, campaign.subject_b: 10}
    assert campaign.progress()["waiting_for_winner"] == 20

    link = Link.objects.filter(campaign=campaign).order_by("pk").first()
    assert link is not None
    a_rows = list(rows.filter(variant="a"))
    b_rows = list(rows.filter(variant="b"))
    for delivery in b_rows[:3]:
        _human_click(delivery, link)
    for delivery in a_rows[:2]:
        _human_click(delivery, link)
    for delivery in a_rows:  # A is opened by everyone, and scanned: neither decides
        Open.objects.create(delivery=delivery, user_agent=IPHONE, ip="203.0.113.4")
        Click.objects.create(delivery=delivery, link=link, user_agent="Proofpoint URL Defense")

    assert abtest.decide_winner(campaign_id=campaign.pk) == ""  # the wait is not over
    later = campaign.started_at + dt.timedelta(hours=4, minutes=1)
    assert abtest.decide_due_tests(now=later) == ["b"]
    assert abtest.decide_winner(campaign_id=campaign.pk, now=later) == ""  # decided once
    campaign.refresh_from_db()
    assert (campaign.ab_winner, campaign.ab_decided_at) == ("b", later)

    sending.send_campaign(campaign.pk)
    assert sending.finish_if_done(campaign.pk)
    assert _subjects(smtp_settings) == {campaign.subject: 10, campaign.subject_b: 30}
    assert set(smtp_settings.per_recipient().values()) == {1}  # 40 people, one message each
    assert Counter(rows.values_list("variant", flat=True)) == {"a": 10, "b": 10, "B": 20}


def test_a_tie_keeps_the_campaigns_own_subject(smtp_settings: Any, weekly: Any) -> None:
    subscribe_many(weekly, 10)
    campaign = CampaignFactory(mailing_list=weekly, subject_b="Other", ab_sample_percent=40)
    services.start_campaign(campaign=campaign)
    campaign.refresh_from_db()
    later = campaign.started_at + dt.timedelta(hours=campaign.ab_wait_hours)
    assert abtest.decide_winner(campaign_id=campaign.pk, now=later) == "a"
    assert Delivery.objects.filter(campaign=campaign, variant="A").count() == 6


def test_a_sample_is_at_least_one_person_per_subject() -> None:
    assert abtest.sample_size(3, 10) == 2
    assert abtest.sample_size(1000, 20) == 200
    assert abtest.sample_size(1, 50) == 1


def test_a_campaign_without_a_second_subject_sends_everyone_at_once(
    smtp_settings: Any, weekly: Any
) -> None:
    subscribe_many(weekly, 5)
    campaign = CampaignFactory(mailing_list=weekly)
    services.start_campaign(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert set(Delivery.objects.values_list("variant", flat=True)) == {""}


def test_the_coach_sets_up_a_subject_test_in_the_campaign_form(
    coach_client: Any, weekly: Any
) -> None:
    page = coach_client.get("/admin/newsletter/campaign/add/").content.decode()
    assert 'name="subject_b"' in page and 'name="ab_wait_hours"' in page
    response = coach_client.post(
        "/admin/newsletter/campaign/add/",
        {
            "subject": "Five interview questions",
            "subject_b": "The question that sank my interview",
            "ab_sample_percent": "30",
            "ab_wait_hours": "6",
            "body": "Hello",
            "is_public": "on",
            "mailing_list": weekly.pk,
            "schedule": "now",
            "track_clicks": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign = Campaign.objects.get()
    assert (campaign.subject_b, campaign.ab_sample_percent, campaign.ab_wait_hours) == (
        "The question that sank my interview",
        30,
        6,
    )
    change = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")
    assert "Not chosen yet" in change.content.decode()
