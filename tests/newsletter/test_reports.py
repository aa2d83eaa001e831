"""Campaign reports: people and machines counted apart, on a fixed log and from real requests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter import services, tokens
from newsletter.models import Campaign, Delivery, Feedback, Link, Open, Subscriber
from newsletter.reports import Event, campaign_report, classify
from tests.newsletter.factories import CampaignFactory, subscribe_many

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML)"
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


# Five messages sent at T0; a campaign of three links. Each line says why.
FIXED_LOG = [
    Event(1, "open", 1, at(3), IPHONE, "203.0.113.7"),  # machine: 3 s after sending
    Event(2, "open", 2, at(7200), "Mozilla/5.0", "198.51.100.4"),  # machine: Apple's proxy agent
    Event(3, "open", 3, at(3600), IPHONE, "17.58.101.9"),  # machine: Apple's address block
    Event(4, "open", 4, at(1800), IPHONE, "203.0.113.9"),  # person
    Event(5, "open", 5, at(18000), "Mozilla/5.0 via ggpht.com GoogleImageProxy", None),  # person
    Event(1, "click", 1, at(40), DESKTOP, "192.0.2.1", link_id=1),  # machine: every link in 1 s
    Event(2, "click", 1, at(40.5), DESKTOP, "192.0.2.1", link_id=2),
    Event(3, "click", 1, at(41), DESKTOP, "192.0.2.1", link_id=3),
    Event(4, "click", 2, at(10800), "Mimecast Link Scanner", "192.0.2.2", link_id=1),  # machine
    Event(5, "click", 4, at(2100), IPHONE, "203.0.113.9", link_id=2),  # person
    Event(6, "click", 5, at(21600), DESKTOP, "198.51.100.8", link_id=1),  # person: two links,
    Event(7, "click", 5, at(21630), DESKTOP, "198.51.100.8", link_id=2),  # 30 s apart
    Event(8, "click", 3, at(5), DESKTOP, "192.0.2.3", link_id=1),  # machine: 5 s after sending
]


def test_machine_opens_and_clicks_are_told_apart_on_a_fixed_event_log() -> None:
    sent = dict.fromkeys(range(1, 6), T0)
    machine = classify(FIXED_LOG, sent, link_count=3)
    assert machine == {
        ("open", 1),
        ("open", 2),
        ("open", 3),
        ("click", 1),
        ("click", 2),
        ("click", 3),
        ("click", 4),
        ("click", 8),
    }


def test_three_different_links_in_two_seconds_are_a_scanner_even_in_a_long_campaign() -> None:
    log = [Event(n, "click", 1, at(600 + n / 2), DESKTOP, None, link_id=n) for n in range(1, 4)] + [
        Event(9, "click", 2, at(600), DESKTOP, None, link_id=1)
    ]
    assert classify(log, {1: T0, 2: T0}, link_count=12) == {
        ("click", 1),
        ("click", 2),
        ("click", 3),
    }


def _sent_campaign(weekly: Any, count: int) -> tuple[Campaign, list[Delivery], list[Link]]:
    campaign = CampaignFactory(
        mailing_list=weekly,
        track_opens=True,
        status=Campaign.Status.SENT,
        started_at=timezone.now() - dt.timedelta(hours=3),
        body="[Guides](https://example.org/guides/) and [Calls](https://example.org/book/)",
    )
    people = subscribe_many(weekly, count)
    sent_at = timezone.now() - dt.timedelta(hours=2)
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                campaign=campaign,
                subscriber_id=pk,
                status="sent",
                sent_at=sent_at,
                accepted_at=sent_at,
            )  # fmt: skip
            for pk in people
        ]
    )
    links = [
        Link.objects.create(campaign=campaign, url="https://example.org/guides/"),
        Link.objects.create(campaign=campaign, url="https://example.org/book/"),
    ]
    return campaign, deliveries, links


@pytest.mark.django_db
def test_the_report_counts_people_and_machines_apart_from_recorded_requests(
    client: Any, weekly: Any
) -> None:
    campaign, (d1, d2, d3, d4, d5, d6), (guides, book) = _sent_campaign(weekly, 6)

    def open_(delivery: Delivery, agent: str, ip: str = "203.0.113.5") -> None:
        url = reverse("newsletter:open", args=[tokens.open_token(delivery.pk)])
        assert client.get(url, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip).status_code == 200

    def click(delivery: Delivery, link: Link, agent: str = IPHONE) -> None:
        url = reverse("newsletter:click", args=[tokens.click_token(delivery.pk, link.pk)])
        assert client.get(url, HTTP_USER_AGENT=agent).status_code == 302

    open_(d1, IPHONE)
    open_(d1, IPHONE)  # the same person twice: one opener
    open_(d2, "Mozilla/5.0")  # Apple's privacy proxy
    open_(d3, IPHONE, ip="17.1.2.3")  # from Apple's block
    click(d4, guides)  # images off, but clicked: opened by a person
    click(d5, guides, agent="Barracuda Sentinel (EE)")
    click(d1, book)
    services.record_bounce(email=d6.subscriber.email, hard=True, detail="550 no such user")
    services.record_complaint(email=d3.subscriber.email)
    services.unsubscribe(subscriber=d2.subscriber, reason="link")

    assert Open.objects.filter(delivery=d2).get().user_agent == "Mozilla/5.0"
    report = campaign_report(campaign)
    assert (report.recipients, report.sent, report.delivered) == (6, 6, 5)
    assert (report.bounced, report.complained, report.unsubscribed) == (1, 1, 1)
    assert (report.openers, report.machine_openers) == (2, 2)  # d1 and d4; d2 and d3
    assert (report.open_events, report.machine_open_events) == (4, 2)
    assert (report.clickers, report.click_events, report.machine_click_events) == (2, 3, 1)
    assert (report.open_rate, report.click_rate, report.bounce_rate) == (40.0, 40.0, 16.7)
    by_url = {line.url: (line.clicks, line.people, line.machine_clicks) for line in report.links}
    assert by_url == {guides.url: (1, 1, 1), book.url: (1, 1, 0)}
    assert Feedback.objects.get(kind="bounced").delivery == d6


@pytest.mark.django_db
def test_a_machine_open_or_click_does_not_make_a_subscriber_engaged(weekly: Any) -> None:
    campaign, (delivery,), (link, _) = _sent_campaign(weekly, 1)
    Subscriber.objects.update(last_engaged_at=None)
    services.record_open(delivery_id=delivery.pk, user_agent="Mozilla/5.0", ip="17.0.0.9")
    services.record_click(delivery_id=delivery.pk, link_id=link.pk, user_agent="Mimecast")
    assert Subscriber.objects.get().last_engaged_at is None
    services.record_open(delivery_id=delivery.pk, user_agent=IPHONE, ip="203.0.113.1")
    assert Subscriber.objects.get().last_engaged_at is not None


@pytest.mark.django_db
def test_the_report_page_shows_figures_and_a_chart(coach_client: Any, weekly: Any) -> None:
    campaign, (d1, d2), (guides, _) = _sent_campaign(weekly, 2)
    services.record_open(delivery_id=d1.pk, user_agent=IPHONE, ip="203.0.113.1")
    services.record_click(delivery_id=d1.pk, link_id=guides.pk, user_agent=IPHONE)
    page = coach_client.get(reverse("admin:newsletter_campaign_report", args=[campaign.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<svg class="cl-chart"' in html
    assert "Clicks by people per link" in html
    assert 'data-figure="clickers">1 (50.0 %)' in html
    change = coach_client.get(reverse("admin:newsletter_campaign_change", args=[campaign.pk]))
    assert (
        reverse("admin:newsletter_campaign_report", args=[campaign.pk]) in change.content.decode()
    )


@pytest.mark.django_db
def test_open_and_click_addresses_are_cleared_after_the_ip_retention_period(
    settings: Any, weekly: Any
) -> None:
    from clients import privacy

    settings.RETENTION_IP_MONTHS = 12
    campaign, (delivery,), (link, _) = _sent_campaign(weekly, 1)
    services.record_open(delivery_id=delivery.pk, user_agent=IPHONE, ip="203.0.113.1")
    services.record_click(delivery_id=delivery.pk, link_id=link.pk, ip="203.0.113.1")
    privacy.expire_ip_addresses()
    assert Open.objects.get().ip == "203.0.113.1"
    old = timezone.now() - dt.timedelta(days=370)
    Open.objects.update(opened_at=old)
    from newsletter.models import Click

    Click.objects.update(clicked_at=old)
    privacy.expire_ip_addresses()
    assert (Open.objects.get().ip, Click.objects.get().ip) == (None, None)
    assert Open.objects.get().user_agent == IPHONE  # the report still tells machines apart
