"""The coach's new pages in a real browser: no sideways scroll at 390 px, no template syntax."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from automations.models import Rule
from newsletter.models import Campaign, Delivery, Link
from newsletter.services import record_click, record_open
from tests.automations.factories import make_rule, past_discovery_call
from tests.clients.test_browser import sign_in
from tests.conftest import screenshot
from tests.newsletter.factories import CampaignFactory, MailingListFactory, subscribe_many
from tests.pagecheck import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15"


def test_the_dry_run_and_the_campaign_report_fit_a_phone(
    page: Any, live_server: Any, coach: Any
) -> None:
    rule = make_rule(Rule.Trigger.DISCOVERY_NO_PURCHASE, name="Nudge after the call")
    past_discovery_call(coach, "a-rather-long-address-for-a-phone@example.com", days_ago=10)
    weekly = MailingListFactory()
    campaign = CampaignFactory(
        mailing_list=weekly,
        status=Campaign.Status.SENT,
        started_at=timezone.now() - dt.timedelta(hours=5),
        subject_b="Another subject",
        ab_winner="b",
    )
    sent_at = timezone.now() - dt.timedelta(hours=4)
    deliveries = Delivery.objects.bulk_create(
        Delivery(campaign=campaign, subscriber_id=pk, status="sent", sent_at=sent_at, variant=v)
        for pk, v in zip(subscribe_many(weekly, 4), "abab", strict=True)
    )
    link = Link.objects.create(
        campaign=campaign, url="https://example.org/guides/a-very-long-guide-address-to-wrap/"
    )
    for delivery in deliveries[:3]:
        record_open(delivery_id=delivery.pk, user_agent=IPHONE, ip="203.0.113.2")
    record_click(delivery_id=deliveries[1].pk, link_id=link.pk, user_agent=IPHONE)

    sign_in(page, live_server, coach)
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{live_server.url}/admin/automations/rule/{rule.pk}/dry-run/")
        assert page.locator("[data-affected]").inner_text() == "1 person"
        check_page(page)
        screenshot(page, f"automations-dry-run-{width}")
        page.goto(f"{live_server.url}/admin/newsletter/campaign/{campaign.pk}/report/")
        assert page.locator("svg.cl-chart").count() == 2
        assert page.locator('[data-variant="b"]').inner_text().count("winner") == 1
        check_page(page)
        screenshot(page, f"newsletter-report-{width}")
    assert page.js_errors == []
