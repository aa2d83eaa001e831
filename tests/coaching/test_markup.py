"""The public pages are valid HTML in the ways the Nu HTML Checker found them not to be."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

pytestmark = pytest.mark.django_db

# HTML's "valid global date and time string": at most three digits of a second's fraction.
DATETIME = re.compile(r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:?\d\d)?)?$")
# Elements whose start tag closes an open <p>: the checker reports the <p>'s end tag as stray.
CLOSES_P = {"address", "article", "aside", "blockquote", "div", "dl", "fieldset", "footer",
            "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "menu", "nav", "ol",
            "p", "pre", "section", "table", "ul"}  # fmt: skip


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.in_p = 0
        self.last_heading = 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("hx-"):
                self.problems.append(f"<{tag} {name}>: not an HTML attribute (use data-{name})")
            if name == "datetime" and not DATETIME.match(value or ""):
                self.problems.append(f"<{tag} datetime={value!r}>")
        if tag in CLOSES_P and self.in_p:
            self.problems.append(f"<{tag}> inside a <p>")
            self.in_p = 0
        if tag == "p":
            self.in_p = 1
        if re.fullmatch(r"h[1-6]", tag):
            level = int(tag[1])
            if level > self.last_heading + 1:
                self.problems.append(f"<{tag}> after <h{self.last_heading}>")
            self.last_heading = level

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.in_p = 0


def markup_problems(html: str) -> list[str]:
    parser = Markup()
    parser.feed(html)
    return parser.problems


PAGES = [
    "/",
    "/about/",
    "/coaching/",
    "/coaching/interview-sprint/",
    "/speaking/",
    "/papers/",
    "/contact/",
    "/contact/thanks/",
    "/guides/",
    "/guides/negotiating-an-ai-offer/",
    "/store/",
    "/store/interview-kit/",
    "/book/",
    "/workshops/",
    "/workshops/negotiation-workshop/",
    "/results/",
    "/newsletter/subscribe/",
    "/privacy/",
    "/newsletter/archive/",
    "/newsletter/archive/demo-a-30-day-plan-for-your-ai-job-search/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
]


def test_the_checker_catches_what_it_was_written_for():
    assert markup_problems('<form hx-post="/x"></form>')
    assert markup_problems('<time datetime="2026-11-21T14:11:34.854632+00:00">x</time>')
    assert markup_problems("<p><span><ul><li>x</li></ul></span></p>")
    assert markup_problems("<h1>a</h1><h3>b</h3>")
    assert not markup_problems('<h1>a</h1><h2>b</h2><time datetime="2026-11-21T14:11:34+0000">')


@pytest.mark.parametrize("path", PAGES)
def test_a_public_page_has_no_markup_the_html_checker_rejects(client, demo_data, path):
    response = client.get(path)
    assert response.status_code == 200
    assert markup_problems(response.content.decode()) == []
