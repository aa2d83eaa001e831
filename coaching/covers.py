"""Generated covers: every guide and product has one, uploaded or not.

A cover the coach has not uploaded is drawn from what the item already has: a
kicker (the guide's category, the product's kind) and its title. The colours
follow the kicker, so a category reads as one family on the hub; the shapes
follow the title, so two guides of a category still differ. The picture is an
SVG (a few hundred bytes, sharp at any width) served from the item's own URL
with a digest of its text in the path: the URL changes when the text does, so
the response can be cached for a year.

Titles are text the coach typed: every piece of it is escaped for XML, and
characters XML cannot hold at all are dropped, so no title can break the
image or add markup to it.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse

from coaching.images import COVER_RATIO, Picture

# Bump when the drawing changes, so cached covers are replaced.
STYLE = "1"
WIDTH, HEIGHT = COVER_RATIO
MARGIN = 80

# (background from, background to, shapes, kicker). Each pair keeps white text above
# a 4.5:1 contrast ratio.
PALETTES = (
    ("#1f3f8f", "#2c5fbf", "#5b8ae0", "#c9dbff"),
    ("#0f5c4d", "#16806a", "#3fae92", "#c4f0e2"),
    ("#6b2a7a", "#8d3a9e", "#b86ac8", "#f0d4f6"),
    ("#8a3b12", "#a94f1d", "#d98a4e", "#ffe0c7"),
    ("#1d4e5f", "#24697f", "#4b9ab3", "#cdeefa"),
    ("#4a3a8c", "#5f4db0", "#8f80d8", "#ddd6ff"),
    ("#7a2336", "#9b2f47", "#cf6a80", "#ffd3dd"),
    ("#2f4a1f", "#43692c", "#7aa35a", "#def2cc"),
)

# XML 1.0 cannot hold most control characters, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return " ".join(_NOT_XML.sub("", text).split())


def _number(seed: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{seed}".encode()).digest()[:4], "big")


def cover_digest(kicker: str, title: str) -> str:
    """Changes whenever the picture would: part of the cover's URL."""
    text = f"{STYLE}\n{_clean(kicker)}\n{_clean(title)}\n{settings.SITE_NAME}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _title_lines(title: str) -> tuple[list[str], int]:
    """The title wrapped to the cover's width at the largest size that fits four lines."""
    usable = WIDTH - 2 * MARGIN
    for size in (76, 66, 58, 50):
        # A bold sans averages a little over half an em per character.
        per_line = max(8, int(usable / (size * 0.56)))
        lines = textwrap.wrap(title, per_line, break_long_words=True) or [""]
        if len(lines) <= 4:
            return lines, size
    lines = textwrap.wrap(title, per_line, break_long_words=True)[:4]
    lines[-1] = lines[-1][: per_line - 1].rstrip() + "…"
    return lines, size


def cover_svg(kicker: str, title: str) -> str:
    kicker, title = _clean(kicker), _clean(title)
    start, end, shape, light = PALETTES[_number(kicker, "palette") % len(PALETTES)]
    turn = _number(title, "turn") % 360
    big_x = WIDTH - 140 + _number(title, "x") % 120
    big_y = 60 + _number(title, "y") % 200
    ring_r = 120 + _number(title, "r") % 90
    lines, size = _title_lines(title)
    leading = round(size * 1.15)
    top = 250 if len(lines) < 4 else 215
    title_spans = "".join(
        f'<tspan x="{MARGIN}" y="{top + i * leading}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    label = escape(title, {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{label}">'
        f'<defs><linearGradient id="g" gradientTransform="rotate({turn % 90} .5 .5)">'
        f'<stop offset="0" stop-color="{start}"/><stop offset="1" stop-color="{end}"/>'
        "</linearGradient></defs>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="url(#g)"/>'
        f'<g fill="none" stroke="{shape}" stroke-width="28" opacity=".55">'
        f'<circle cx="{big_x}" cy="{big_y}" r="{ring_r}"/>'
        f'<circle cx="{big_x}" cy="{big_y}" r="{ring_r + 70}" stroke-width="6"/></g>'
        f'<rect x="{MARGIN}" y="{HEIGHT - 118}" width="64" height="8" rx="4" fill="{light}"/>'
        f"<g font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif\">"
        f'<text x="{MARGIN}" y="130" fill="{light}" font-size="28" font-weight="700" '
        f'letter-spacing="3">{escape(kicker.upper())}</text>'
        f'<text fill="#ffffff" font-size="{size}" font-weight="750">{title_spans}</text>'
        f'<text x="{MARGIN}" y="{HEIGHT - 60}" fill="{light}" font-size="26">'
        f"{escape(_clean(settings.SITE_NAME))}</text></g></svg>"
    )


def cover_picture(url: str) -> Picture:
    return Picture(src=url, width=WIDTH, height=HEIGHT)


def cover_response(kicker: str, title: str, digest: str) -> HttpResponse:
    """The SVG, cached for a year when asked for by its current digest.

    An old digest (the title changed since the page was cached) still gets the
    current picture, briefly cached, rather than a broken image.
    """
    response = HttpResponse(cover_svg(kicker, title), content_type="image/svg+xml")
    current = digest == cover_digest(kicker, title)
    response["Cache-Control"] = (
        "public, max-age=31536000, immutable" if current else "public, max-age=300"
    )
    # Opened on its own, an SVG is a document: let it run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response
