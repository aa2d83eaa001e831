"""Markdown to safe HTML with anchored headings and a table of contents.

Raw HTML in the source is never rendered: markdown-it runs with HTML off (a
literal `<instructions>` shows as text) and the output goes through nh3 as well.
Used for guides, newsletter campaigns and the coach's own texts.
"""

from __future__ import annotations

import re
from typing import Any

import nh3
from django.utils.text import slugify
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

TOC_LEVELS = (2, 3, 4)

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "kbd", "li", "ol", "p",
    "pre", "s", "section", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"id", "class"},
    "a": {"href", "title", "aria-label", "aria-hidden"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "input": {"type", "checked", "disabled"},
    "th": {"style", "scope"},
    "td": {"style"},
    "ol": {"start"},
}


def _parser() -> MarkdownIt:
    md = (
        MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
        .enable("table")
        .enable("strikethrough")
        .use(footnote_plugin)
        .use(tasklists_plugin)
    )
    return md


_md = _parser()


def _add_heading_ids(tokens: list[Any]) -> list[dict[str, Any]]:
    toc: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        level = int(token.tag[1])
        inline = tokens[index + 1]
        text = "".join(
            child.content
            for child in (inline.children or [])
            if child.type in {"text", "code_inline"}
        ).strip()
        base = slugify(text)[:80] or "section"
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchor = base if count == 0 else f"{base}-{count + 1}"
        token.attrSet("id", anchor)
        if level in TOC_LEVELS:
            toc.append({"level": level, "id": anchor, "text": text})
    return toc


def render_markdown(markdown: str) -> tuple[str, list[dict[str, Any]]]:
    env: dict[str, Any] = {}
    tokens = _md.parse(markdown, env)
    toc = _add_heading_ids(tokens)
    html = _md.renderer.render(tokens, _md.options, env)
    html = _add_anchor_links(html)
    return sanitize(html), toc


HEADING = re.compile(r'<h([2-6]) id="([^"]+)">(.*?)</h\1>', re.DOTALL)


def _add_anchor_links(html: str) -> str:
    return HEADING.sub(
        lambda m: (
            f'<h{m[1]} id="{m[2]}">{m[3]}<a class="anchor" href="#{m[2]}" '
            f'aria-label="Link to this section">#</a></h{m[1]}>'
        ),
        html,
    )


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
