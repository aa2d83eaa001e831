"""Markdown to safe HTML with anchored headings and a table of contents.

Raw HTML in the source is never rendered: markdown-it runs with HTML off (a
literal `<instructions>` shows as text) and the output goes through nh3 as well.
Used for guides, newsletter campaigns and the coach's own texts.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from typing import Any

import nh3
from django import forms
from django.db import models
from django.utils.text import slugify
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin
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
    "math": {"xmlns", "display"},
}
# What latex2mathml writes: rendered once at save time, so pages carry no maths script.
MATHML_TAGS = {
    "math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace",
    "msub", "msup", "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover",
    "mtable", "mtr", "mtd", "mstyle", "mpadded", "mphantom", "menclose", "merror",
}  # fmt: skip
MATHML_ATTRIBUTES = {
    "mo": {
        "stretchy",
        "fence",
        "separator",
        "lspace",
        "rspace",
        "form",
        "largeop",
        "movablelimits",
    },
    "mstyle": {"displaystyle", "scriptlevel", "mathvariant"},
    "mi": {"mathvariant"},
    "mtable": {"columnalign", "rowspacing", "columnspacing"},
    "mtd": {"columnalign"},
    "mfrac": {"linethickness"},
    "mspace": {"width"},
    "menclose": {"notation"},
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


def _maths(latex: str, options: dict[str, Any]) -> str:
    display = "block" if options.get("display_mode") else "inline"
    try:
        return latex_to_mathml(latex, display=display)
    except Exception:  # noqa: BLE001 - the converter raises many types on bad input
        # Unreadable LaTeX is shown as the coach typed it rather than failing the save.
        return f"<code>{escape(latex)}</code>"


# Pandoc's rules: no space inside the dollars and no digit after the closing one, so
# "$5 or $6" stays money.
_md_with_maths = _parser().use(
    dollarmath_plugin, allow_space=False, allow_digits=False, renderer=_maths
)


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


def render_markdown(markdown: str, *, maths: bool = False) -> tuple[str, list[dict[str, Any]]]:
    """`maths`: $...$ and $$...$$ become MathML (guides); off where a dollar is money."""
    md = _md_with_maths if maths else _md
    env: dict[str, Any] = {}
    tokens = md.parse(markdown, env)
    toc = _add_heading_ids(tokens)
    html = md.renderer.render(tokens, md.options, env)
    html = _add_anchor_links(html)
    return sanitize(html, maths=maths), toc


HEADING = re.compile(r'<h([2-6]) id="([^"]+)">(.*?)</h\1>', re.DOTALL)


def _add_anchor_links(html: str) -> str:
    return HEADING.sub(
        lambda m: (
            f'<h{m[1]} id="{m[2]}">{m[3]}<a class="anchor" href="#{m[2]}" '
            f'aria-label="Link to this section">#</a></h{m[1]}>'
        ),
        html,
    )


def sanitize(html: str, *, maths: bool = False) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS | MATHML_TAGS if maths else ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES | MATHML_ATTRIBUTES if maths else ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


def normalise_newlines(text: str) -> str:
    """LF only: browsers submit textareas with CRLF, and line-anchored patterns
    (guide embeds, `<!-- more -->`) must see the same text whatever typed it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


class MarkdownFormField(forms.CharField):
    def to_python(self, value: Any) -> str:
        return normalise_newlines(super().to_python(value) or "")


class MarkdownField(models.TextField):
    """A TextField holding Markdown, stored with LF line endings."""

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return normalise_newlines(value) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return normalise_newlines(value) if isinstance(value, str) else value

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": MarkdownFormField, **kwargs})


class _TextWriter(HTMLParser):
    """Readable plain text from rendered Markdown: what a reader of the text
    part of a mail sees, so no `**`, `#` or `[label](url)` left in it."""

    BLOCKS = {"p", "div", "section", "blockquote", "pre", "table", "tr", "ul", "ol", "dl"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []
        self.lists: list[list[int]] = []  # [counter] per open list; -1 for bullets
        self.heading = ""

    def _break(self, lines: int = 2) -> None:
        text = "".join(self.out).rstrip(" ")
        trailing = len(text) - len(text.rstrip("\n"))
        if text and trailing < lines:
            self.out.append("\n" * (lines - trailing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS or tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self._break(2 if not self.lists else 1)
        if tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.heading = tag
            self.out.append("")
            self._heading_start = len("".join(self.out))
        elif tag == "ul":
            self.lists.append([-1])
        elif tag == "ol":
            self.lists.append([int(dict(attrs).get("start") or 1)])
        elif tag == "li":
            self._break(1)
            indent = "  " * (len(self.lists) - 1)
            counter = self.lists[-1] if self.lists else [-1]
            if counter[0] < 0:
                self.out.append(f"{indent}- ")
            else:
                self.out.append(f"{indent}{counter[0]}. ")
                counter[0] += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self._break(2)
            self.out.append("----")
            self._break(2)
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))
        elif tag in {"td", "th"}:
            self.out.append(" | " if not "".join(self.out).endswith("\n") else "")

    def handle_endtag(self, tag: str) -> None:
        if tag == self.heading:
            title = "".join(self.out)[self._heading_start :].strip()
            rule = "=" if tag in {"h1", "h2"} else "-"
            self.out.append("\n" + rule * len(title))
            self.heading = ""
            self._break(2)
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
            self._break(2 if not self.lists else 1)
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href and href.startswith(("http://", "https://", "mailto:")):
                label = "".join(self.out).rsplit("\n", 1)[-1]
                if href.removeprefix("mailto:") not in label:
                    self.out.append(f" ({href})")
        elif tag in self.BLOCKS:
            self._break(2)

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def render_text(markdown: str) -> str:
    """Markdown as plain text a person reads as is (for a mail's text part)."""
    html, _ = render_markdown(normalise_newlines(markdown))
    html = re.sub(r'<a class="anchor"[^>]*>#</a>', "", html)
    writer = _TextWriter()
    writer.feed(html)
    writer.close()
    text = "".join(writer.out)
    text = "\n".join(line.rstrip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
