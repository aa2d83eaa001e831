"""Sending over real SMTP (aiosmtpd) in-process: ledger, re-checks, headers, errors."""

from __future__ import annotations

import time
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.utils import timezone

from newsletter import sending, services, tokens, transports
from newsletter.models import Campaign, Delivery, Subscriber, Suppression
from newsletter.transports import smtp_pipeline
from tests.newsletter.factories import CampaignFactory, subscribe_many

pytestmark = pytest.mark.django_db

# Both transports against the same real SMTP server: the fast pipeline, and Django's
# own SMTP backend through the interface every other backend (anymail ESPs) uses.
TRANSPORTS = ["smtp", "django"]


@pytest.fixture(params=TRANSPORTS)
def transport(request: Any, settings: Any) -> str:
    settings.NEWSLETTER_TRANSPORT = request.param
    return request.param


def start(campaign: Campaign) -> None:
    assert services.start_campaign(campaign=campaign)  # eager: fills the ledger and sends
    campaign.refresh_from_db()


def test_every_recipient_gets_exactly_one_message_with_unsubscribe_headers(
    smtp_settings, weekly, transport
):
    subscribe_many(weekly, 25)
    campaign = CampaignFactory(mailing_list=weekly)
    start(campaign)
    assert campaign.status == Campaign.Status.SENT
    counts = smtp_settings.per_recipient()
    assert len(counts) == 25 and set(counts.values()) == {1}
    assert Delivery.objects.filter(status="sent", accepted_at__isnull=False).count() == 25
    assert campaign.progress()["unconfirmed"] == 0
    message = smtp_settings.parsed()[0]
    # Django's SMTP backend folds a long header into encoded words (its email.policy.SMTP);
    # the smtp transport keeps it one line, as mail providers read it best.
    unsubscribe = str(make_header(decode_header(message["List-Unsubscribe"])))
    if transport == "smtp":
        assert unsubscribe == message["List-Unsubscribe"]
    assert "/newsletter/unsubscribe/" in unsubscribe and "<mailto:" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = {part.get_content_type(): part for part in message.walk()}
    assert "text/plain" in parts and "text/html" in parts
    html = parts["text/html"].get_payload(decode=True).decode()
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert "<strong>reader</strong>" in html and "Hello reader." in text
    assert "/newsletter/c/" in html  # click tracking on by default
    assert "/newsletter/o/" not in html  # no open pixel unless enabled


def test_the_one_click_url_in_the_header_unsubscribes(smtp_settings, weekly, client):
    subscribe_many(weekly, 1)
    start(CampaignFactory(mailing_list=weekly))
    header = smtp_settings.parsed()[0]["List-Unsubscribe"]
    url = header.split(">")[0].lstrip("<").replace("http://127.0.0.1:8000", "")
    client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert Subscriber.objects.get().status == Subscriber.Status.UNSUBSCRIBED


def test_unsubscribed_and_suppressed_addresses_get_nothing(smtp_settings, weekly, transport):
    ids = subscribe_many(weekly, 10)
    services.unsubscribe(subscriber=Subscriber.objects.get(pk=ids[0]))
    Suppression.objects.create(email="r00001@example.com", reason="hard-bounce")
    start(CampaignFactory(mailing_list=weekly))
    counts = smtp_settings.per_recipient()
    assert "r00000@example.com" not in counts and "r00001@example.com" not in counts
    assert len(counts) == 8


def test_unsubscribing_while_the_campaign_sends_stops_that_message(
    smtp_settings, weekly, monkeypatch, transport
):
    ids = subscribe_many(weekly, 30)
    real_token = tokens.subscriber_token
    left: list[int] = []

    def token(subscriber_id: int) -> str:
        # Both transports build each message (and so its token) after the claim
        # and before the commit point: the moment to leave.
        if subscriber_id == ids[5] and not left:
            left.append(subscriber_id)  # once: unsubscribing asks for a token too
            # Mid-send: this person (already claimed) and a later one leave now.
            services.unsubscribe(subscriber=Subscriber.objects.get(pk=ids[5]))
            Suppression.objects.create(email="r00020@example.com", reason="complaint")
        return real_token(subscriber_id)

    monkeypatch.setattr(tokens, "subscriber_token", token)
    start(CampaignFactory(mailing_list=weekly))
    counts = smtp_settings.per_recipient()
    assert "r00005@example.com" not in counts and "r00020@example.com" not in counts
    assert len(counts) == 28 and set(counts.values()) == {1}
    assert Delivery.objects.filter(status="skipped").count() == 2


def test_rows_of_a_dead_sender_are_reclaimed_after_the_lease_and_sent_once(
    smtp_settings, weekly, settings, transport
):
    subscribe_many(weekly, 5)
    campaign = CampaignFactory(mailing_list=weekly, status=Campaign.Status.PREPARING)
    settings.NEWSLETTER_SENDERS_PER_CAMPAIGN = 1
    # A sender claimed three rows, then died before sending any.
    services._insert_rows(campaign, Subscriber.objects.all(), timezone.now())
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENDING)
    import uuid

    dead = uuid.uuid4()
    claimed = sending.claim_batch(campaign.pk, dead, 3)
    assert len(claimed) == 3
    outcome = sending.send_campaign(campaign.pk)
    assert outcome.sent == 2  # the lease still holds the other three
    Delivery.objects.filter(claim=dead).update(lease_until=timezone.now())
    outcome = sending.send_campaign(campaign.pk)
    assert outcome.sent == 3
    counts = smtp_settings.per_recipient()
    assert len(counts) == 5 and set(counts.values()) == {1}
    # The dead sender wakes up: its claim is gone, so its commit point refuses.
    assert sending.mark_sent(claimed[0][0], dead, weekly.pk) is False


def test_a_sender_that_lost_its_claim_drops_the_message_unfinished(
    smtp_settings, weekly, transport
):
    subscribe_many(weekly, 1)
    campaign = CampaignFactory(mailing_list=weekly, status=Campaign.Status.SENDING)
    services._insert_rows(campaign, Subscriber.objects.all(), timezone.now())
    import uuid

    first, second = uuid.uuid4(), uuid.uuid4()
    [(delivery_id, subscriber_id, _)] = sending.claim_batch(campaign.pk, first, 10)
    Delivery.objects.filter(pk=delivery_id).update(claim=second)  # another sender took it
    from newsletter.rendering import prepare

    link = transports.chosen()
    assert link.name == transport
    link.begin(prepare(campaign))
    outgoing = transports.Outgoing(
        delivery_id,
        subscriber_id,
        "r00000@example.com",
        "",
        sending.Commit(delivery_id, first, weekly.pk),
    )
    [report] = link.send_batch([outgoing])
    link.close()
    assert report.result == transports.Result.SKIPPED
    time.sleep(0.2)
    assert smtp_settings.per_recipient() == {}


def test_a_sender_dying_between_its_commit_point_and_the_handover_leaves_the_row_unconfirmed(
    smtp_settings, weekly, settings, monkeypatch
):
    """The one window at-most-once leaves: it is counted, not resent (sending.py, point 4)."""
    subscribe_many(weekly, 3)
    campaign = CampaignFactory(mailing_list=weekly, status=Campaign.Status.SENDING)
    services._insert_rows(campaign, Subscriber.objects.all(), timezone.now())
    settings.NEWSLETTER_TRANSPORT = "smtp"
    real_send = smtp_pipeline.SMTPPipelineTransport.send
    calls = []

    class Killed(BaseException):
        """What SIGKILL looks like from inside: nothing after it runs."""

    def dies_on_the_second(self: Any, message: Any, item: Any) -> None:
        calls.append(item.delivery_id)
        if len(calls) == 2:
            assert item.commit()  # the row is marked sent; the final "." never leaves
            raise Killed
        real_send(self, message, item)

    monkeypatch.setattr(smtp_pipeline.SMTPPipelineTransport, "send", dies_on_the_second)
    with pytest.raises(Killed):
        sending.send_campaign(campaign.pk)
    monkeypatch.setattr(smtp_pipeline.SMTPPipelineTransport, "send", real_send)
    Delivery.objects.filter(status="sending").update(lease_until=timezone.now())  # lease over
    assert sending.send_campaign(campaign.pk).sent == 1  # the third; the second is not resent
    assert sending.finish_if_done(campaign.pk)
    campaign.refresh_from_db()
    counts = smtp_settings.per_recipient()
    assert len(counts) == 2 and set(counts.values()) == {1}  # never twice; one lost
    lost = Delivery.objects.get(pk=calls[1])
    assert lost.status == "sent" and lost.accepted_at is None
    assert lost.subscriber.email not in counts
    assert campaign.progress()["unconfirmed"] == 1


def test_pause_resume_and_cancel_are_guarded(smtp_settings, weekly, settings):
    subscribe_many(weekly, 3)
    campaign = CampaignFactory(mailing_list=weekly, status=Campaign.Status.SENDING)
    services._insert_rows(campaign, Subscriber.objects.all(), timezone.now())
    assert services.pause_campaign(campaign=campaign)
    assert not services.pause_campaign(campaign=campaign)
    assert sending.send_campaign(campaign.pk).sent == 0
    assert services.resume_campaign(campaign=campaign)  # eager: senders run
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENT
    assert len(smtp_settings.per_recipient()) == 3
    assert not services.cancel_campaign(campaign=campaign)


class Refusing:
    """An SMTP sink that refuses some recipients, temporarily or for good."""

    def __init__(self, codes: dict[str, str]) -> None:
        self.codes = codes
        self.got: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: ANN001
        if address in self.codes:
            return self.codes[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        self.got.extend(envelope.rcpt_tos)
        return "250 OK"


def refusing_sink(settings: Any, codes: dict[str, str]) -> tuple[Refusing, Any]:
    from aiosmtpd.controller import Controller

    handler = Refusing(codes)
    from tests.newsletter.conftest import free_port

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    return handler, controller


def test_transient_errors_are_retried_later_and_permanent_ones_fail(weekly, settings, transport):
    subscribe_many(weekly, 4)
    handler, controller = refusing_sink(
        settings,
        {"r00001@example.com": "451 4.3.0 try later", "r00002@example.com": "550 5.1.1 no such"},
    )
    try:
        campaign = CampaignFactory(mailing_list=weekly)
        start(campaign)
        assert sorted(handler.got) == ["r00000@example.com", "r00003@example.com"]
        statuses = dict(Delivery.objects.values_list("subscriber__email", "status"))
        assert statuses["r00001@example.com"] == "pending"
        assert statuses["r00002@example.com"] == "failed"
        retry = Delivery.objects.get(subscriber__email="r00001@example.com")
        assert retry.due_at > timezone.now()  # backed off
        assert campaign.status == Campaign.Status.SENDING  # not done while a retry waits
        handler.codes.clear()
        Delivery.objects.filter(pk=retry.pk).update(due_at=timezone.now())
        services.dispatch_due()
        campaign.refresh_from_db()
        assert campaign.status == Campaign.Status.SENT
        assert handler.got.count("r00001@example.com") == 1
        assert "r00002@example.com" not in handler.got  # a permanent refusal is never retried
        assert Delivery.objects.get(subscriber__email="r00002@example.com").status == "failed"
    finally:
        controller.stop()


def test_the_campaign_pauses_itself_after_too_many_errors(weekly, settings, transport):
    settings.NEWSLETTER_PAUSE_AFTER_ERRORS = 3
    subscribe_many(weekly, 10)
    codes = {f"r{n:05d}@example.com": "451 4.3.0 busy" for n in range(10)}
    handler, controller = refusing_sink(settings, codes)
    try:
        campaign = CampaignFactory(mailing_list=weekly)
        start(campaign)
        assert campaign.status == Campaign.Status.PAUSED
        assert "3 errors" in campaign.pause_reason
        assert Delivery.objects.filter(status="sending").count() == 0  # claims released
    finally:
        controller.stop()


def test_the_rate_cap_spaces_messages(smtp_settings, weekly, settings):
    settings.NEWSLETTER_MAX_PER_SECOND = 20
    settings.NEWSLETTER_SENDERS_PER_CAMPAIGN = 1
    subscribe_many(weekly, 11)
    began = time.monotonic()
    start(CampaignFactory(mailing_list=weekly))
    assert time.monotonic() - began >= 0.45
    assert len(smtp_settings.per_recipient()) == 11


def test_a_local_hour_campaign_is_due_at_that_hour_in_each_zone(weekly, settings):
    ids = subscribe_many(weekly, 3)
    Subscriber.objects.filter(pk=ids[0]).update(time_zone="Asia/Tokyo")
    Subscriber.objects.filter(pk=ids[1]).update(time_zone="America/New_York")
    campaign = CampaignFactory(
        mailing_list=weekly,
        schedule=Campaign.Schedule.LOCAL,
        local_hour=9,
        scheduled_at=timezone.now() + timezone.timedelta(days=2),
        status=Campaign.Status.PREPARING,
    )
    settings.NEWSLETTER_SENDERS_PER_CAMPAIGN = 0  # only the ledger here
    services.fill_ledger(campaign=campaign)
    due = {
        d.subscriber_id: d.due_at.astimezone(d.subscriber.zone)
        for d in Delivery.objects.select_related("subscriber")
    }
    assert {d.hour for d in due.values()} == {9}
    assert due[ids[0]] < due[ids[2]] < due[ids[1]]  # Tokyo, London, New York
    assert len({d.date() for d in due.values()}) == 1


def test_a_gated_guide_in_a_campaign_shows_only_its_preview(smtp_settings, weekly):
    from guides.models import Category, Guide

    category = Category.objects.create(name="Interviews", slug="interviews")
    Guide.objects.create(
        title="Paid playbook",
        slug="paid-playbook",
        summary="s",
        body="The free opening.\n\n<!-- more -->\n\nTHE SECRET PAID PART.",
        category=category,
        visibility=Guide.Visibility.PAID,
        status=Guide.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    subscribe_many(weekly, 1)
    start(CampaignFactory(mailing_list=weekly, body="Read this:\n\n{{ guide:paid-playbook }}\n"))
    raw = smtp_settings.messages[0][1].decode()
    assert "The free opening" in raw
    assert "SECRET PAID PART" not in raw
    assert "Read the rest of this guide" in raw


def parts_of(message: Any) -> dict[str, Any]:
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def test_messages_go_out_in_8bit_with_few_short_lines_when_the_server_takes_8bitmime(
    smtp_settings, weekly
):
    subscribe_many(weekly, 2)
    body = "Café **résumé** tips.\n\n\n\n\nNext: [the guides](https://example.org/guides/)."
    start(CampaignFactory(mailing_list=weekly, body=body))
    assert smtp_settings.mail_options == [["BODY=8BITMIME"]] * 2
    raw = smtp_settings.messages[0][1]
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parts = parts_of(smtp_settings.parsed()[0])
    assert {p["Content-Transfer-Encoding"] for p in parts.values()} == {"8bit"}
    text = parts["text/plain"].get_payload(decode=True).decode()
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "Café résumé tips.\r\n\r\nNext:" in text  # runs of blank lines made one
    assert "<strong>résumé</strong>" in html and "/newsletter/c/" in html


def test_a_line_too_long_for_smtp_is_sent_quoted_printable(smtp_settings, weekly):
    subscribe_many(weekly, 1)
    long_line = " ".join(f"word{n}" for n in range(300))  # about 2,400 characters
    start(CampaignFactory(mailing_list=weekly, body=long_line))
    raw = smtp_settings.messages[0][1]
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parts = parts_of(smtp_settings.parsed()[0])
    assert parts["text/plain"]["Content-Transfer-Encoding"] == "quoted-printable"
    assert long_line in parts["text/plain"].get_payload(decode=True).decode()
    # The HTML paragraph is broken at spaces instead, which HTML reads the same way.
    assert parts["text/html"]["Content-Transfer-Encoding"] == "7bit"
    html = parts["text/html"].get_payload(decode=True).decode()
    assert " ".join(html.split()).count(long_line) == 1


def test_a_server_without_8bitmime_gets_quoted_printable(weekly, settings):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    from coaching.launcher import free_port
    from tests.newsletter.conftest import Sink

    class Old(SMTP):
        async def push(self, status: str) -> None:
            if "8BITMIME" not in status:  # not advertised in EHLO
                await super().push(status)

    class OldController(Controller):
        def factory(self) -> SMTP:
            return Old(self.handler)

    sink, port = Sink(), free_port()
    controller = OldController(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        subscribe_many(weekly, 1)
        start(CampaignFactory(mailing_list=weekly, body="Café résumé."))
    finally:
        controller.stop()
    assert sink.mail_options == [[]]
    parts = parts_of(sink.parsed()[0])
    assert "8bit" not in {p["Content-Transfer-Encoding"] for p in parts.values()}
    assert "Café résumé." in parts["text/plain"].get_payload(decode=True).decode()


def test_packing_html_keeps_pre_blocks_and_lines_short():
    from newsletter.transports.smtp_wire import pack_html

    html = (
        "<div>\n    <p>One\n    two</p>\n<pre>keep\n   this</pre>\n" + "<p>x</p>\n" * 200 + "</div>"
    )
    packed = pack_html(html)
    assert packed.startswith("<div> <p>One two</p> <pre>keep\n   this</pre>")
    assert max(len(line) for line in packed.splitlines()) <= 990  # SMTP allows 998
    assert packed.replace("\n", " ").count("<p>x</p>") == 200


def test_text_of_many_short_lines_goes_base64_and_reads_the_same(smtp_settings, weekly):
    subscribe_many(weekly, 1)
    cells = "\n\n".join(f"Cell {n}" for n in range(120))
    start(CampaignFactory(mailing_list=weekly, body=cells))
    raw = smtp_settings.messages[0][1]
    parts = parts_of(smtp_settings.parsed()[0])
    assert parts["text/plain"]["Content-Transfer-Encoding"] == "base64"
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert cells.replace("\n", "\r\n") in text and "/newsletter/unsubscribe/" in text
    assert raw.count(b"\r\n") < 240 - 100  # fewer lines than the text itself has


def test_a_guide_embed_typed_with_crlf_and_trailing_spaces_is_embedded(weekly):
    from guides.models import Category, Guide
    from newsletter.rendering import render_body

    category = Category.objects.create(name="Interviews", slug="interviews")
    Guide.objects.create(
        title="Free guide",
        slug="free-guide",
        summary="s",
        body="The free opening.",
        category=category,
        visibility=Guide.Visibility.PUBLIC,
        status=Guide.Status.PUBLISHED,
        published_at=timezone.now(),
    )
    html, text = render_body("Read this:\r\n\r\n{{ guide:free-guide }}  \r\n\r\nBye.")
    assert "guide:free-guide" not in html and "guide:free-guide" not in text
    assert 'class="guide-embed"' in html and "Free guide" in text


def test_the_text_part_reads_as_text_not_as_markdown(weekly):
    from newsletter.rendering import render_body

    _, text = render_body("## This week\n\nSome **bold** and [the guides](https://example.org/g/).")
    assert "**" not in text and "##" not in text and "](" not in text
    assert "This week\n=========" in text
    assert "Some bold and the guides (https://example.org/g/)." in text
