from __future__ import annotations

import re

import pytest
from django.core import mail

from newsletter import services
from newsletter.models import Campaign, Click, Delivery, MailingList
from tests.newsletter.factories import CampaignFactory, subscribe_many

pytestmark = pytest.mark.django_db


def test_the_send_action_leaves_10000_recipients_to_a_task_that_fills_the_ledger_once(
    coach_client, weekly, monkeypatch
):
    """The action only marks the campaign and queues the task (its speed is a
    figure of bench/newsletter_send.py, not of this test)."""
    import newsletter.services

    subscribe_many(weekly, 10_000)
    campaign = CampaignFactory(mailing_list=weekly)
    queued: list[tuple] = []
    monkeypatch.setattr(newsletter.services, "enqueue_on_commit", lambda *a: queued.append(a))
    response = coach_client.post(f"/admin/newsletter/campaign/{campaign.pk}/command/start/")
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PREPARING
    assert Delivery.objects.count() == 0 and len(queued) == 1
    assert services.fill_ledger(campaign=campaign) == 10_000
    assert services.fill_ledger(campaign=campaign) == 0  # idempotent and guarded


def test_the_campaign_admin_pages_work(coach_client, weekly):
    subscribe_many(weekly, 3)
    campaign = CampaignFactory(mailing_list=weekly)
    assert coach_client.get("/admin/newsletter/campaign/").status_code == 200
    page = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")
    assert page.status_code == 200 and b"Send now" in page.content
    assert coach_client.get("/admin/newsletter/campaign/add/").status_code == 200
    preview = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/preview/")
    assert b"<strong>reader</strong>" in preview.content
    count = coach_client.post("/admin/newsletter/campaign/audience/", {"mailing_list": weekly.pk})
    assert b"3</span> recipients" in count.content
    progress = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/progress/")
    assert progress.status_code == 286  # a draft: htmx stops polling


def test_the_audience_count_applies_segment_filters(coach_client, weekly):
    ids = subscribe_many(weekly, 4)
    from newsletter.models import Subscriber

    Subscriber.objects.filter(pk__in=ids[:1]).update(last_engaged_at=None)
    Subscriber.objects.filter(pk__in=ids[1:]).update(
        last_engaged_at="2020-01-01T00:00Z", confirmed_at="2020-01-01T00:00Z"
    )
    Subscriber.objects.filter(pk=ids[3]).update(last_engaged_at="2099-01-01T00:00Z")
    count = coach_client.post(
        "/admin/newsletter/campaign/audience/",
        {"mailing_list": weekly.pk, "segment__engaged_within_days": "30"},
    )
    assert b">1</span> recipient" in count.content
    count = coach_client.post(
        "/admin/newsletter/campaign/audience/",
        {"mailing_list": weekly.pk, "segment__subscribed_before": "2021-01-01"},
    )
    assert b">3</span> recipients" in count.content


def test_a_test_send_reaches_the_coach_only(coach_client, weekly):
    subscribe_many(weekly, 2)
    campaign = CampaignFactory(mailing_list=weekly)
    coach_client.post(
        f"/admin/newsletter/campaign/{campaign.pk}/command/test/", {"to": "coach@example.com"}
    )
    assert [m.to for m in mail.outbox] == [["coach@example.com"]]
    assert mail.outbox[0].subject.startswith("[Test]")
    assert Delivery.objects.count() == 0


def test_strangers_cannot_use_the_campaign_admin(client, stranger, weekly):
    campaign = CampaignFactory(mailing_list=weekly)
    client.force_login(stranger)
    response = client.post(f"/admin/newsletter/campaign/{campaign.pk}/command/start/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_a_click_is_recorded_and_redirected(client, weekly):
    subscribe_many(weekly, 1)
    campaign = CampaignFactory(mailing_list=weekly)
    services.start_campaign(campaign=campaign)
    html = mail.outbox[0].alternatives[0][0]
    link = re.search(r'href="http://127.0.0.1:8000(/newsletter/c/[^"]+)"', html)[1]
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == "https://example.org/guides/"
    assert Click.objects.count() == 1
    assert client.get("/newsletter/c/1-1.forged/").status_code == 400


def test_click_tracking_can_be_switched_off_and_opens_on(weekly):
    subscribe_many(weekly, 1)
    campaign = CampaignFactory(mailing_list=weekly, track_clicks=False, track_opens=True)
    services.start_campaign(campaign=campaign)
    html = mail.outbox[0].alternatives[0][0]
    assert 'href="https://example.org/guides/"' in html
    assert "/newsletter/o/" in html


def test_the_archive_lists_public_sent_campaigns_only(client, weekly):
    public = CampaignFactory(mailing_list=weekly, status="sent", subject="Public issue")
    CampaignFactory(mailing_list=weekly, status="sent", is_public=False, subject="Private issue")
    CampaignFactory(mailing_list=weekly, status="draft", subject="Draft issue")
    page = client.get("/newsletter/archive/")
    assert b"Public issue" in page.content
    assert b"Private issue" not in page.content and b"Draft issue" not in page.content
    detail = client.get(f"/newsletter/archive/{public.slug}/")
    assert detail.status_code == 200 and b"<strong>reader</strong>" in detail.content
    assert client.get("/newsletter/archive/draft-issue/").status_code == 404


def test_the_demo_data_loads_twice(demo_data):
    from newsletter import demo

    demo.load(None)
    assert MailingList.objects.filter(slug__in=["weekly", "announcements"]).count() == 2
    assert Campaign.objects.archived().count() == 2


def test_send_now_asks_first_and_names_the_recipient_count(coach_client, weekly):
    subscribe_many(weekly, 3)
    campaign = CampaignFactory(mailing_list=weekly)
    page = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/change/").content.decode()
    assert f"/admin/newsletter/campaign/{campaign.pk}/send/" in page
    confirm = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/send/")
    assert "Send to 3 subscribers" in confirm.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT  # looking is not sending
    response = coach_client.post(f"/admin/newsletter/campaign/{campaign.pk}/send/", follow=True)
    campaign.refresh_from_db()
    assert campaign.status != Campaign.Status.DRAFT
    assert "Sending to 3 subscribers." in response.content.decode()


def test_a_sent_campaign_offers_neither_pause_nor_cancel(coach_client, weekly):
    campaign = CampaignFactory(mailing_list=weekly, status=Campaign.Status.SENT)
    progress = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/progress/")
    page = coach_client.get(f"/admin/newsletter/campaign/{campaign.pk}/change/")
    for html in (progress.content.decode(), page.content.decode()):
        assert "/command/pause/" not in html and "/command/cancel/" not in html
    assert campaign.actions() == []
    campaign.status = Campaign.Status.SENDING
    assert campaign.actions() == ["pause", "cancel"]


def test_the_body_help_text_shows_the_embed_as_code_not_as_template_syntax(coach_client, weekly):
    page = coach_client.get("/admin/newsletter/campaign/add/").content.decode()
    assert "<code>{{ guide:slug }}</code>" in page


def test_a_body_typed_in_the_admin_is_stored_with_plain_newlines(coach_client, weekly):
    from newsletter.admin import CampaignForm

    form = CampaignForm.with_segment_fields()(
        data={
            "subject": "Hello",
            "body": "One.\r\n\r\n{{ guide:x }}\r\n",
            "mailing_list": weekly.pk,
            "schedule": "now",
            "track_clicks": "on",
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["body"] == "One.\n\n{{ guide:x }}"
