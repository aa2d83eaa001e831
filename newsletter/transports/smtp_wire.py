"""MIME wire bytes for the SMTP pipeline, compiled once per campaign.

Only the smtp transport uses this: it hands these bytes straight to the DATA
phase. Every other transport sends the `EmailMultiAlternatives` that
`newsletter.rendering.campaign_email` builds, and lets its backend write the MIME.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import re
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr

from django.conf import settings
from django.urls import reverse

from newsletter import tokens
from newsletter.rendering import Prepared, absolute, domain, unsubscribe_mailto

# Long List-Unsubscribe URLs must not be folded into RFC 2047 encoded words
# (mail providers would not find the URL): allow RFC 5322's 998-character lines.
WIRE_POLICY = email.policy.SMTP.clone(max_line_length=998)

# Building and serialising an EmailMultiAlternatives per recipient is the sender's
# largest cost (bench/newsletter_send.py compares both transports).
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
        domain=domain(),
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
