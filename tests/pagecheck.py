"""What every page must be, whoever is signed in: checked in a real browser.

`check_page` fails a test when a visitor can see template syntax (a `{# #}`
comment, a `{% %}` tag or a `{{ }}` variable that escaped rendering) anywhere
outside `<code>`/`<pre>`, where showing it may be the point, or when the page
scrolls sideways at the current width.
"""

from __future__ import annotations

from typing import Any

# Text a person can see: visible text nodes, leaving out code and pre blocks (where
# template syntax may be the subject) and what is never shown (scripts, styles).
_VISIBLE_TEMPLATE_SYNTAX = r"""() => {
  const skip = "code, pre, script, style, template, textarea, noscript";
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const parts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest(skip)) continue;
    if (parent.checkVisibility && !parent.checkVisibility()) continue;
    parts.push(node.data);
  }
  const text = parts.join("\n");
  const found = [];
  for (const pattern of [/\{#[\s\S]*?#\}/g, /\{%[\s\S]*?%\}/g, /\{\{[\s\S]*?\}\}/g]) {
    for (const match of text.matchAll(pattern)) found.push(match[0].slice(0, 120));
  }
  return found;
}"""


def visible_template_syntax(page: Any) -> list[str]:
    return page.evaluate(_VISIBLE_TEMPLATE_SYNTAX)


def sideways_overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0 or less: none)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def check_page(page: Any) -> None:
    shown = visible_template_syntax(page)
    assert shown == [], f"{page.url} shows template syntax: {shown}"
    overflow = sideways_overflow(page)
    width = page.viewport_size["width"]
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {width}px"
