"""A campaign as mail: Markdown to a responsive HTML part and a plain-text part.

The expensive part (Markdown, guide embeds, the layout template) is done once
per campaign; per recipient only a few placeholders are replaced, so building
10,000 messages costs string joins rather than template renders.

Guides are embedded by a line holding only `{{ guide:slug }}`. The gating rule
applies as for an anonymous reader (`can_view(None, guide)`): a gated guide shows
its public preview and a link, never its paid text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import html as html_lib
import re
import secrets
from dataclasses import dataclass, field
from email.utils import formataddr, formatdate, parseaddr

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
        list_id=f"{campaign.mailing_list.slug}.{_domain()}",
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


def _domain() -> str:
    return _domain_of(settings.DEFAULT_FROM_EMAIL)


@functools.lru_cache(maxsize=8)
def _domain_of(from_email: str) -> str:
    # Cached: parsing the address cost more than the rest of a message's headers.
    return parseaddr(from_email)[1].rpartition("@")[2] or "localhost"


def unsubscribe_mailto(token: str) -> str:
    address = getattr(settings, "NEWSLETTER_UNSUBSCRIBE_MAILTO", "") or f"unsubscribe@{_domain()}"
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


def build_message(
    prepared: Prepared,
    *,
    to: str,
    name: str = "",
    delivery_id: int | None,
    subscriber_id: int,
) -> EmailMultiAlternatives:
    html, text, headers = personalise(
        prepared, delivery_id=delivery_id, subscriber_id=subscriber_id
    )
    message = EmailMultiAlternatives(
        subject=prepared.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[formataddr((name, to)) if name else to],
        headers=headers,
    )
    message.attach_alternative(html, "text/html")
    return message


# --- Wire bytes, compiled once per campaign ----------------------------------------
#
# Building an EmailMultiAlternatives and serialising it costs ~3 ms a message.
# The campaign's MIME is the same for everyone except a few slots (unsubscribe and
# preference URLs, click tokens, the To header), so it is encoded once into
# quoted-printable chunks with a soft line break at each slot; per recipient the
# sender only encodes the slot values and joins bytes.

SLOT = re.compile(r"__NL_(UNSUBSCRIBE|PREFERENCES|OPEN_PIXEL|LINK_\d+)__")
DOT_LINE = re.compile(rb"(?m)^\.")


@dataclass
class Wire:
    """One message ready for SMTP: envelope and dot-stuffed CRLF bytes (no final dot)."""

    sender: str
    recipient: str
    data: bytes
    eight_bit: bool = False


@dataclass
class WireTemplate:
    sender: str
    static_headers: bytes
    text: list[bytes | str]  # encoded chunks and slot names, alternating
    html: list[bytes | str]
    text_encoding: str  # Content-Transfer-Encoding of each part
    html_encoding: str
    boundary: bytes
    url_prefixes: dict[str, tuple[str, str]]
    list_id: str
    domain: str
    track_clicks: bool
    track_opens: bool

    @property
    def eight_bit(self) -> bool:
        """Whether the server must accept 8BITMIME (RFC 6152) for these bytes."""
        return "8bit" in (self.text_encoding, self.html_encoding)


def _qp(value: str) -> bytes:
    """Quoted-printable for a chunk that starts and ends a line (soft break at the end)."""
    encoded = binascii.b2a_qp(value.replace("\r\n", "\n").encode(), istext=True)
    encoded = encoded.replace(b"\n", b"\r\n")
    return encoded if encoded.endswith(b"\r\n") else encoded + b"=\r\n"


def _chunks(source: str, encoding: str) -> list[bytes | str]:
    """Encoded, dot-stuffed chunks (each starts a line) and the slot names between them.

    Base64 cannot be cut around the slots: its chunks stay raw (CRLF, UTF-8) and
    `_fill` encodes the whole part per recipient (a few microseconds, in C).
    """
    if encoding == "base64":
        return [_crlf(piece) if n % 2 == 0 else piece for n, piece in enumerate(SLOT.split(source))]
    if encoding != "quoted-printable":
        return _plain_chunks(source)
    parts: list[bytes | str] = []
    position = 0
    for match in SLOT.finditer(source):
        parts.append(_stuff(_qp(source[position : match.start()])))
        parts.append(match[1])
        position = match.end()
    tail = _qp(source[position:])
    parts.append(_stuff(tail[:-3] + b"\r\n" if tail.endswith(b"=\r\n") else tail))
    return parts


def _plain_chunks(source: str) -> list[bytes | str]:
    """As `_chunks`, for 7bit/8bit: chunks after a slot go on with the slot's line."""
    parts: list[bytes | str] = []
    position = 0
    for match in SLOT.finditer(source):
        parts.append(_crlf(source[position : match.start()]))
        parts.append(match[1])
        position = match.end()
    tail = _crlf(source[position:])
    parts.append(tail if tail.endswith(b"\r\n") else tail + b"\r\n")
    # Dot-stuffing: lines start after a CRLF, and at the very beginning.
    stuffed = [p.replace(b"\r\n.", b"\r\n..") if isinstance(p, bytes) else p for p in parts]
    if isinstance(stuffed[0], bytes):
        stuffed[0] = _stuff(stuffed[0])
    return stuffed


def _crlf(value: str) -> bytes:
    return re.sub(r"\r\n|\r|\n", "\r\n", value).encode()


# RFC 5321 allows 1,000 octets a line with its CRLF; stay a little under.
MAX_LINE = 990
SLOT_ROOM = 250
PRE_BLOCK = re.compile(r"(<pre\b.*?</pre>)", re.DOTALL | re.IGNORECASE)


def transfer_encoding(source: str, *, eight_bit: bool = True) -> str:
    """The encoding that puts the part in the fewest lines, as a real recipient will see it.

    Receiving servers read a message line by line (aiosmtpd, Postfix's smtpd), so
    a message's lines cost them more than its bytes. Text as it is (7bit, or 8bit
    with 8BITMIME, as Django sends) when its lines fit the SMTP limit; else
    quoted-printable; and base64 instead when that takes fewer lines, as for
    text of many short lines.
    """
    filled = SLOT.sub("u" * SLOT_ROOM, source)  # a filled-in URL is longer than its slot
    lines = filled.splitlines() or [""]
    if all(len(line.encode()) <= MAX_LINE for line in lines) and (filled.isascii() or eight_bit):
        natural, natural_lines = ("7bit" if filled.isascii() else "8bit"), len(lines)
    else:
        natural, natural_lines = "quoted-printable", _qp(filled).count(b"\n")
    base64_lines = -(-len(_crlf(filled)) // 57)  # 57 bytes make one 76-character line
    return "base64" if base64_lines < natural_lines else natural


def pack_html(html: str) -> str:
    """The same HTML in few long lines: each newline and its indentation become one space.

    Outside <pre> a newline is whitespace like a space, so the page renders the
    same; lines are then broken at spaces to stay under the SMTP line limit.
    """
    pieces = []
    for n, piece in enumerate(PRE_BLOCK.split(html)):
        if n % 2:  # a <pre> block keeps its lines
            pieces.append(piece)
            continue
        pieces.append(_wrap(re.sub(r"[ \t]*\r?\n[ \t]*", " ", piece)))
    return "".join(pieces).strip()


def _wrap(text: str, width: int = 700) -> str:
    """Break at spaces so that no line, slots filled in, passes `width` (a word may)."""
    lines: list[str] = []
    line: list[str] = []
    room = width
    for word in text.split(" "):
        cost = len(SLOT.sub("u" * SLOT_ROOM, word)) + 1
        if line and cost > room:
            lines.append(" ".join(line))
            line, room = [], width
        line.append(word)
        room -= cost
    lines.append(" ".join(line))
    return "\n".join(lines)


def _stuff(data: bytes) -> bytes:
    """SMTP dot-stuffing of a piece that starts at the beginning of a line."""
    return DOT_LINE.sub(b"..", data)


def compile_wire(prepared: Prepared, *, eight_bit: bool = True) -> WireTemplate:
    """Everything of a campaign's message but the recipient's parts, encoded once.

    `eight_bit=False` for servers without 8BITMIME: non-ASCII parts go quoted-printable.
    """
    from email.message import EmailMessage

    from newsletter.sending import WIRE_POLICY

    static = EmailMessage(policy=WIRE_POLICY)
    static["From"] = settings.DEFAULT_FROM_EMAIL
    static["Subject"] = prepared.subject
    static["MIME-Version"] = "1.0"
    static["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    static["List-Id"] = f"<{prepared.list_id}>"
    static["Precedence"] = "bulk"
    # "=_" never occurs in quoted-printable text, and the random part in no other text.
    boundary = f"=_nl_{secrets.token_hex(12)}"
    headers = b"".join(WIRE_POLICY.fold_binary(key, value) for key, value in static.items())
    headers += f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n'.encode()
    marker = "__TOKEN__"
    # Markdown reads the same with one blank line where there were several.
    text = re.sub(r"\n{3,}", "\n\n", prepared.text.replace("\r\n", "\n"))
    html = pack_html(prepared.html)
    text_encoding = transfer_encoding(text, eight_bit=eight_bit)
    html_encoding = transfer_encoding(html, eight_bit=eight_bit)
    return WireTemplate(
        sender=parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
        static_headers=headers,
        text=_chunks(text, text_encoding),
        html=_chunks(html, html_encoding),
        text_encoding=text_encoding,
        html_encoding=html_encoding,
        boundary=boundary.encode(),
        url_prefixes={
            name: _around(absolute(reverse(f"newsletter:{name}", args=[marker])), marker)
            for name in ("unsubscribe", "preferences", "click", "open")
        },
        list_id=prepared.list_id,
        domain=_domain(),
        track_clicks=prepared.track_clicks,
        track_opens=prepared.track_opens,
    )


def _around(url: str, marker: str) -> tuple[str, str]:
    before, _, after = url.partition(marker)
    return before, after


def _url(template: WireTemplate, name: str, token: str) -> str:
    before, after = template.url_prefixes[name]
    return f"{before}{token}{after}"


def _fill(
    parts: list[bytes | str], values: dict[str, str], out: list[bytes], encoding: str
) -> None:
    if encoding == "base64":
        raw = b"".join(p if isinstance(p, bytes) else values[p].encode() for p in parts)
        out.append(base64.encodebytes(raw).replace(b"\n", b"\r\n"))
        return
    for part in parts:
        if isinstance(part, bytes):
            out.append(part)
        elif encoding == "quoted-printable":
            value = _qp(values[part])
            out.append(_stuff(value) if value.startswith(b".") or b"\n." in value else value)
        else:  # URLs: ASCII, no line breaks; a slot never starts a line in packed text
            out.append(values[part].encode())


def build_wire(
    template: WireTemplate, *, to: str, name: str = "", delivery_id: int, subscriber_id: int
) -> Wire:
    """The bytes of one campaign message for one recipient (see compile_wire)."""
    token = tokens.subscriber_token(subscriber_id)
    unsubscribe = _url(template, "unsubscribe", token)
    values = {
        "UNSUBSCRIBE": unsubscribe,
        "PREFERENCES": _url(template, "preferences", token),
        "OPEN_PIXEL": _url(template, "open", tokens.open_token(delivery_id))
        if template.track_opens
        else "",
    }
    for part in template.html:
        if isinstance(part, str) and part.startswith("LINK_"):
            values[part] = _url(template, "click", tokens.click_token(delivery_id, int(part[5:])))
    name = name.replace("\r", " ").replace("\n", " ").strip()
    head = (
        f"To: {formataddr((name, to)) if name else to}\r\n"
        f"Date: {formatdate()}\r\n"
        f"Message-ID: <nl.{delivery_id}.{secrets.token_hex(6)}@{template.domain}>\r\n"
        f"List-Unsubscribe: <{unsubscribe}>, <{unsubscribe_mailto(token)}>\r\n"
        f"X-Newsletter-Delivery: {delivery_id}\r\n"
    )
    boundary = template.boundary
    out = [template.static_headers, head.encode(), b"\r\n--", boundary]
    out += [PART_HEADERS["text/plain"], template.text_encoding.encode(), b"\r\n\r\n"]
    _fill(template.text, values, out, template.text_encoding)
    out += [b"--", boundary]
    out += [PART_HEADERS["text/html"], template.html_encoding.encode(), b"\r\n\r\n"]
    _fill(template.html, values, out, template.html_encoding)
    out += [b"--", boundary, b"--\r\n"]
    # Every piece starts a line and is dot-stuffed already (headers never start with ".").
    return Wire(template.sender, to, b"".join(out), template.eight_bit)


PART_HEADERS = {
    kind: f'\r\nContent-Type: {kind}; charset="utf-8"\r\nContent-Transfer-Encoding: '.encode()
    for kind in ("text/plain", "text/html")
}
