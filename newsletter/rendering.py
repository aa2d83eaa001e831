"""A campaign as mail: Markdown to a responsive HTML part and a plain-text part.

The expensive part (Markdown, guide embeds, the layout template) is done once
per campaign; per recipient only a few placeholders are replaced, so building
10,000 messages costs string joins rather than template renders.

Guides are embedded by a line holding only `{{ guide:slug }}`. The gating rule
applies as for an anonymous reader (`can_view(None, guide)`): a gated guide shows
its public preview and a link, never its paid text.

This builds `EmailMultiAlternatives`, which every transport can send; the smtp
transport's pre-encoded wire bytes live in newsletter/transports/smtp_wire.py.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import strip_tags

from coaching.markdown import normalise_newlines, render_markdown, render_text
from newsletter import tokens
from newsletter.models import Campaign, Link

# Tolerant of what the admin's textarea sends: spaces around, a stray \r at the end.
GUIDE_MARKER = re.compile(r"^[ \t]*\{\{\s*guide:([\w-]+)\s*\}\}[ \t\r]*$", re.MULTILINE)
HREF = re.compile(r'href="(https?://[^"]+)"')
LINK_SLOT = re.compile(r'href="__NL_LINK_(\d+)__"')
UNSUBSCRIBE = "__NL_UNSUBSCRIBE__"
PREFERENCES = "__NL_PREFERENCES__"
OPEN_PIXEL = "__NL_OPEN_PIXEL__"


@dataclass
class Prepared:
    campaign_id: int
    subject: str
    html: str
    text: str
    track_clicks: bool
    track_opens: bool
    list_id: str
    links: dict[str, int] = field(default_factory=dict)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _guide_embed(slug: str) -> tuple[str, str]:
    """(HTML, text) for one embedded guide, through the one gating rule."""
    from guides.access import can_view
    from guides.models import Guide

    guide = Guide.objects.published().filter(slug=slug).first()
    if guide is None:
        return "", ""
    url = absolute(guide.get_absolute_url())
    title = html_lib.escape(guide.title)
    if can_view(None, guide):
        body_html, note = guide.preview_html, "Read the whole guide"
    else:
        body_html, note = guide.preview_html, "Read the rest of this guide on the site"
    html = (
        f'<div class="guide-embed"><h2><a href="{url}">{title}</a></h2>'
        f"{body_html}"
        f'<p><a href="{url}">{note} &rarr;</a></p></div>'
    )
    text = f"{guide.title}\n{strip_tags(body_html).strip()}\n{note}: {url}"
    return html, text


def render_body(body: str) -> tuple[str, str]:
    """(HTML fragment, plain text) of a campaign body."""
    body = normalise_newlines(body)
    embeds: dict[str, tuple[str, str]] = {}
    for slug in GUIDE_MARKER.findall(body):
        embeds.setdefault(slug, _guide_embed(slug))
    source = GUIDE_MARKER.sub(lambda m: f"\n\nNLGUIDE{m[1]}NLGUIDE\n\n", body)
    html, _ = render_markdown(source)
    # Heading anchors make sense on a page, not in a mail client.
    html = re.sub(r'<a class="anchor"[^>]*>#</a>', "", html)
    text = render_text(source)
    for slug, (guide_html, guide_text) in embeds.items():
        html = html.replace(f"<p>NLGUIDE{slug}NLGUIDE</p>", guide_html)
        text = text.replace(f"NLGUIDE{slug}NLGUIDE", guide_text)
    return html, text.strip() + "\n"


def prepare(campaign: Campaign) -> Prepared:
    body_html, body_text = render_body(campaign.body)
    context = {
        "campaign": campaign,
        "body_html": body_html,
        "body_text": body_text,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "preheader": campaign.preheader,
        "unsubscribe_url": UNSUBSCRIBE,
        "preferences_url": PREFERENCES,
        "open_pixel_url": OPEN_PIXEL if campaign.track_opens else "",
        "archive_url": absolute(campaign.get_absolute_url()) if campaign.is_public else "",
    }
    html = render_to_string("emails/newsletter-campaign-body.html", context)
    text = render_to_string("emails/newsletter-campaign-body.txt", context)
    prepared = Prepared(
        campaign_id=campaign.pk,
        subject=campaign.subject,
        html=html,
        text=text,
        track_clicks=campaign.track_clicks,
        track_opens=campaign.track_opens,
        list_id=f"{campaign.mailing_list.slug}.{domain()}",
    )
    if campaign.track_clicks:
        prepared.html = _slot_links(campaign, html, prepared.links)
    return prepared


def _slot_links(campaign: Campaign, html: str, links: dict[str, int]) -> str:
    """Replace each outgoing link with a numbered slot filled per recipient."""
    site_pages = (absolute("/newsletter/unsubscribe/"), absolute("/newsletter/preferences/"))

    def slot(match: re.Match[str]) -> str:
        url = html_lib.unescape(match[1])
        if url.startswith(site_pages):
            return match[0]
        if url not in links:
            link, _ = Link.objects.get_or_create(campaign=campaign, url=url[:2000])
            links[url] = link.pk
        return f'href="__NL_LINK_{links[url]}__"'

    return HREF.sub(slot, html)


def domain() -> str:
    return _domain_of(settings.DEFAULT_FROM_EMAIL)


@functools.lru_cache(maxsize=8)
def _domain_of(from_email: str) -> str:
    # Cached: parsing the address cost more than the rest of a message's headers.
    return parseaddr(from_email)[1].rpartition("@")[2] or "localhost"


def unsubscribe_mailto(token: str) -> str:
    address = getattr(settings, "NEWSLETTER_UNSUBSCRIBE_MAILTO", "") or f"unsubscribe@{domain()}"
    return f"mailto:{address}?subject=unsubscribe%20{token}"


def personalise(
    prepared: Prepared, *, delivery_id: int | None, subscriber_id: int
) -> tuple[str, str, dict[str, str]]:
    """(HTML, text, headers) for one recipient."""
    token = tokens.subscriber_token(subscriber_id)
    unsubscribe = absolute(reverse("newsletter:unsubscribe", args=[token]))
    preferences = absolute(reverse("newsletter:preferences", args=[token]))
    html = prepared.html.replace(UNSUBSCRIBE, unsubscribe).replace(PREFERENCES, preferences)
    text = prepared.text.replace(UNSUBSCRIBE, unsubscribe).replace(PREFERENCES, preferences)
    if prepared.track_clicks:
        if delivery_id is None:
            reverse_links = {v: k for k, v in prepared.links.items()}
            html = LINK_SLOT.sub(
                lambda m: f'href="{html_lib.escape(reverse_links[int(m[1])])}"', html
            )
        else:
            html = LINK_SLOT.sub(
                lambda m: 'href="{}"'.format(
                    absolute(
                        reverse(
                            "newsletter:click", args=[tokens.click_token(delivery_id, int(m[1]))]
                        )
                    )
                ),
                html,
            )
    if prepared.track_opens:
        pixel = (
            absolute(reverse("newsletter:open", args=[tokens.open_token(delivery_id)]))
            if delivery_id
            else ""
        )
        html = html.replace(OPEN_PIXEL, pixel)
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>, <{unsubscribe_mailto(token)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "List-Id": f"<{prepared.list_id}>",
        "Precedence": "bulk",
    }
    if delivery_id:
        headers["X-Newsletter-Delivery"] = str(delivery_id)
    return html, text, headers


def campaign_email(
    prepared: Prepared,
    *,
    to: str,
    name: str = "",
    delivery_id: int | None,
    subscriber_id: int,
    subject: str = "",
) -> EmailMultiAlternatives:
    html, text, headers = personalise(
        prepared, delivery_id=delivery_id, subscriber_id=subscriber_id
    )
    message = EmailMultiAlternatives(
        subject=subject or prepared.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((name, to)) if name else to],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message
