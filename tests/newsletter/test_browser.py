from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from newsletter.models import Campaign, MailingList, Subscriber
from tests.conftest import screenshot

SITE = "http://127.0.0.1:8000"


def local(url: str, live_server: Any) -> str:
    return url.replace(SITE, live_server.url)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reader_subscribes_confirms_gets_a_campaign_and_unsubscribes(
    page: Any, live_server: Any, coach_client: Any
) -> None:
    weekly = MailingList.objects.create(name="The weekly letter", slug="weekly", is_default=True)
    Campaign.objects.create(
        subject="Past issue", body="Hello.", mailing_list=weekly, status="sent", is_public=True
    )

    # Subscribe from the footer form of an ordinary page.
    page.goto(f"{live_server.url}/newsletter/archive/")
    page.fill("#signup-email-footer", "reader@example.com")
    page.click("footer .signup-form button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    for width in (390, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        screenshot(page, f"newsletter-check-inbox-{width}")
    subscriber = Subscriber.objects.get(email_lower="reader@example.com")
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_source == "footer"
    assert subscriber.time_zone  # filled in by newsletter.js

    # Confirm from the email: opening the page (even running its scripts) is not
    # enough, the reader presses the button.
    [confirmation] = mail.outbox
    link = re.search(r"http://\S+/newsletter/confirm/\S+/", confirmation.body)[0]
    page.goto(local(link, live_server))
    page.wait_for_load_state("networkidle")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    page.get_by_role("button", name="Yes, subscribe me").click()
    page.wait_for_selector("text=You are in")
    screenshot(page, "newsletter-confirmed-1280")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED

    # The coach sends a campaign to a segment (engaged in the last 30 days).
    campaign = Campaign.objects.create(
        subject="This week in AI hiring",
        body="Three things I saw this week.",
        mailing_list=weekly,
        segment={"engaged_within_days": 30},
    )
    response = coach_client.post(f"/admin/newsletter/campaign/{campaign.pk}/command/start/")
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    [issue] = [m for m in mail.outbox if m.subject == "This week in AI hiring"]
    assert issue.to == ["reader@example.com"]
    assert issue.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Follow the unsubscribe link: a page with a button, then unsubscribed.
    html = issue.alternatives[0][0]
    unsubscribe = re.search(r'href="(http://[^"]+/newsletter/unsubscribe/[^"]+/)"', html)[1]
    page.goto(local(unsubscribe, live_server))
    page.wait_for_selector("text=Unsubscribe reader@example.com?")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED  # the GET changed nothing
    screenshot(page, "newsletter-unsubscribe-1280")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=You are unsubscribed")
    page.set_viewport_size({"width": 390, "height": 900})
    screenshot(page, "newsletter-unsubscribed-390")
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert page.js_errors == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_coach_confirms_a_send_and_a_sent_campaign_shows_no_pause_or_cancel(
    page: Any, live_server: Any, coach: Any
) -> None:
    from django.test import Client

    from tests.newsletter.factories import subscribe_many

    weekly = MailingList.objects.create(name="The weekly letter", slug="weekly", is_default=True)
    subscribe_many(weekly, 2)
    campaign = Campaign.objects.create(subject="Hello", body="Hi.", mailing_list=weekly)
    client = Client()
    client.force_login(coach)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    change = f"{live_server.url}/admin/newsletter/campaign/{campaign.pk}/change/"
    page.goto(change)
    page.get_by_role("link", name="Send now…").click()
    for width, height in ((1280, 800), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        wide = page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")
        assert not wide, f"the confirm page scrolls sideways at {width} px"
        screenshot(page, f"newsletter-send-confirm-{width}")
    page.get_by_role("button", name="Send to 2 subscribers").click()
    page.get_by_text("Sending to 2 subscribers.").wait_for()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    page.goto(change)
    panel = page.locator("#campaign-progress")
    panel.get_by_text("Sent", exact=True).wait_for()
    assert panel.get_by_role("button", name="Pause").count() == 0
    assert panel.get_by_role("button", name="Cancel").count() == 0
    screenshot(page, "newsletter-campaign-sent-390")
    assert page.js_errors == []
