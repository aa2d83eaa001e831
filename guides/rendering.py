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
# The most a gated guide gives away without its author's say (no more marker),
# and the most the admin lets a marker give away: a share of the words, capped.
PREVIEW_SHARE = 0.25
PREVIEW_MAX_WORDS = 400


@dataclass
class Rendered:
    html: str
    preview_html: str
    toc: list[dict[str, Any]] = field(default_factory=list)
    word_count: int = 0
    preview_word_count: int = 0


def count_words(text: str) -> int:
    return len(WORDS.findall(text))


def preview_bound(total_words: int) -> int:
    """The most words a gated guide's preview may hold: 25% of them, at most 400."""
    return min(PREVIEW_MAX_WORDS, int(total_words * PREVIEW_SHARE))


def split_preview(body: str) -> tuple[str, bool]:
    """The public part of a body: up to the more marker, else a bounded opening.

    The one place a preview is cut; the page, the feeds, search snippets and
    newsletter embeds all show what this returns (stored as preview_html and
    preview_text). Without a marker it fails closed: whole paragraphs from the
    top while they fit `preview_bound`, and the first one cut at the bound when
    even it does not fit. A marker past the bound is refused by the guide admin.
    """
    match = MORE_MARKER.search(body)
    if match:
        return body[: match.start()], True
    bound = preview_bound(count_words(MORE_MARKER.sub("", body)))
    kept: list[str] = []
    used = 0
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        words = count_words(paragraph)
        if used + words > bound:
            if not kept and bound:
                kept.append(_first_words(paragraph, bound))
            break
        kept.append(paragraph)
        used += words
    return "\n\n".join(kept), False


def _first_words(text: str, count: int) -> str:
    """The text up to the end of its `count`-th word."""
    ends = [word.end() for word in WORDS.finditer(text)]
    return text[: ends[count - 1]] if len(ends) >= count else text


def preview_over_bound(body: str) -> int | None:
    """The preview's word count when the body's more marker gives away more than the
    bound allows, else None (no marker: the preview is bounded by construction)."""
    preview, marked = split_preview(body)
    words = count_words(CTA_MARKER.sub("", preview))
    if marked and words > preview_bound(count_words(MORE_MARKER.sub("", body))):
        return words
    return None


# LaTeX commands that mark maths a writer typed without dollars (text pasted from a
# document that had rendered it): only these, so a Windows path never becomes maths.
BARE_COMMAND = re.compile(
    r"\\(?:text|frac|sqrt|bar|hat|tilde|vec|infty|log|exp|left|right|cdot|times|sum|prod"
    r"|alpha|beta|gamma|delta|Delta|theta|Theta|lambda|sigma|Sigma|mu|epsilon|eta|pi|max|min"
    r"|mathcal|mathbb|mathbf|approx|leq|geq|partial|nabla|softmax)(?![A-Za-z])"
)
# Inline code and maths already in dollars are left as they are.
KEPT_SPANS = re.compile(r"(`[^`]*`|\$\$.*?\$\$|\$[^$\s][^$]*?\$)")
FENCE = re.compile(r"^\s*(```|~~~)")
SINGLE = re.compile(r"^[(\[]?[A-Za-z0-9][)\],]*[.,;:]?$")
OPERATOR = re.compile(r"^[=+\-*/<>|≈]+$")
CALL = re.compile(r"^[A-Za-z]+\([A-Za-z0-9,]*\)[,.;]?$")


def _mathy(token: str) -> bool:
    return bool(
        "\\" in token
        or any(mark in token for mark in "^_{}=")
        or SINGLE.match(token)
        or OPERATOR.match(token)
        or CALL.match(token)
        or (len(token) <= 4 and ("(" in token or ")" in token) and "." not in token)
    )


def _trim(span: str) -> tuple[str, str, str]:
    """Prose punctuation and unbalanced brackets around a span go back to the prose."""
    lead = trail = ""
    while True:
        if span and span[-1] in ".,;:" and not span.endswith("..."):
            span, trail = span[:-1], span[-1] + trail
        elif span.endswith(")") and span.count(")") > span.count("("):
            span, trail = span[:-1], ")" + trail
        elif span.startswith("(") and span.count("(") > span.count(")"):
            span, lead = span[1:], lead + "("
        else:
            return lead, span, trail


def _wrap_text(text: str) -> str:
    if not BARE_COMMAND.search(text):
        return text
    tokens = re.split(r"(\s+)", text)  # words at even indexes, whitespace between
    words = tokens[::2]
    out: list[str] = []
    start = index = 0  # the first word not yet written, the word being looked at
    while index < len(words):
        if not BARE_COMMAND.search(words[index]):
            index += 1
            continue
        first = index
        while first > start and words[first - 1] and _mathy(words[first - 1]):
            first -= 1
        last = index
        while last + 1 < len(words) and words[last + 1] and _mathy(words[last + 1]):
            last += 1
        out.append("".join(tokens[2 * start : 2 * first]))
        lead, span, trail = _trim("".join(tokens[2 * first : 2 * last + 1]))
        out.append(f"{lead}${span}${trail}")
        start = index = last + 1
        if 2 * last + 1 < len(tokens):
            out.append(tokens[2 * last + 1])
    out.append("".join(tokens[2 * start :]))
    return "".join(out)


def wrap_bare_latex(body: str) -> str:
    """Put dollars around LaTeX typed without them, so it renders as maths too."""
    if not BARE_COMMAND.search(body):
        return body
    lines, fenced, display = [], False, False
    for line in body.split("\n"):
        if FENCE.match(line):
            fenced = not fenced
        elif line.strip() == "$$":
            display = not display
        elif not fenced and not display:
            parts = KEPT_SPANS.split(line)
            line = "".join(p if i % 2 else _wrap_text(p) for i, p in enumerate(parts))
        lines.append(line)
    return "\n".join(lines)


def render_body(body: str) -> Rendered:
    body = wrap_bare_latex(body)
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
