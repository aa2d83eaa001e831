"""A guide's body as readers get it: full HTML, public preview, contents, read time.

Done once when the guide is saved, never per request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from coaching.markdown import render_markdown

MORE_MARKER = re.compile(r"^\s*<!--\s*more\s*-->\s*$", re.MULTILINE | re.IGNORECASE)
CTA_MARKER = re.compile(r"^\s*<!--\s*cta\s*-->\s*$", re.MULTILINE | re.IGNORECASE)
CTA_PLACEHOLDER = '<div class="cta-slot"></div>'
WORDS = re.compile(r"\S*[0-9A-Za-z\u00c0-\uffff]\S*")
WORDS_PER_MINUTE = 230


@dataclass
class Rendered:
    html: str
    preview_html: str
    toc: list[dict[str, Any]] = field(default_factory=list)
    word_count: int = 0
    preview_word_count: int = 0


def count_words(text: str) -> int:
    return len(WORDS.findall(text))


def split_preview(body: str) -> tuple[str, bool]:
    """The public part of a body: up to the more marker (or a short opening without one)."""
    match = MORE_MARKER.search(body)
    if match:
        return body[: match.start()], True
    # No marker: the first three paragraphs, so a gated guide never shows it all.
    paragraphs = re.split(r"\n\s*\n", body.strip())
    return "\n\n".join(paragraphs[:3]), False


def render_body(body: str) -> Rendered:
    full_source = CTA_MARKER.sub("\n\n[[cta]]\n\n", MORE_MARKER.sub("", body))
    html, toc = render_markdown(full_source, maths=True)
    preview_source, _ = split_preview(body)
    preview_source = CTA_MARKER.sub("", preview_source)
    preview_html, _ = render_markdown(preview_source, maths=True)
    html = html.replace("<p>[[cta]]</p>", CTA_PLACEHOLDER)
    return Rendered(
        html=html,
        preview_html=preview_html,
        toc=toc,
        word_count=count_words(MORE_MARKER.sub("", body)),
        preview_word_count=count_words(preview_source),
    )


TAGS = re.compile(r"<[^>]+>")
ANCHOR_LINKS = re.compile(r'<a class="anchor"[^>]*>#</a>')


def html_to_text(html: str) -> str:
    """Text of rendered HTML: tags out, entities decoded, whitespace collapsed."""
    import html as html_module

    text = TAGS.sub(" ", ANCHOR_LINKS.sub("", html))
    return " ".join(html_module.unescape(text).split())


def read_time(word_count: int) -> int:
    return max(1, round(word_count / WORDS_PER_MINUTE))
