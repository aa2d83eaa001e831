"""The public pages at a phone's and a desktop's width: nothing raw, nothing sideways,
and on a phone the thing the visitor came for on the first screen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.coaching.test_templates import visible_template_syntax
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"phone": 390, "desktop": 1280}
PHONE_SCREEN = 844
# No hyphen or slash to break at, as in the references that made a guide 1,157 px wide.
LONG_URL = "https://example.com/search?q=" + "abcdefghij" * 30
LONG_URL_BODY = f"""Opening paragraph.

## References

- {LONG_URL}
- [{LONG_URL}]({LONG_URL})

```
curl {LONG_URL}?{"x" * 200}
```

| column | another column | a third | {"wide" * 30} |
|---|---|---|---|
| 1 | 2 | 3 | 4 |
"""

# Page name, path, and the element the visitor came for (checked on a phone).
PAGES = [
    ("home", "/", ".hero h1"),
    ("hub", "/guides/", ".card-grid .card"),
    ("guide", "/guides/long-url-guide/", ".guide-body"),
    ("booking", "/book/discovery-call/", ".bk-calendar"),
    ("product", "/store/interview-kit/", ".buy-button"),
    ("contact", "/contact/", ".contact-form"),
    ("page", "/speaking/", ".prose h1"),
    ("offer", "/coaching/interview-sprint/", ".offer-price"),
]


@pytest.fixture
def long_url_guide(demo_data: None) -> Any:
    from tests.guides.factories import GuideFactory

    return GuideFactory(slug="long-url-guide", title="Sources", body=LONG_URL_BODY)


def top_of(page: Any, selector: str) -> float:
    return page.locator(selector).first.evaluate(
        "element => element.getBoundingClientRect().top + window.scrollY"
    )


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_the_public_pages_show_no_template_syntax_and_never_scroll_sideways(
    page, live_server, long_url_guide, width_name
):
    page.set_viewport_size({"width": WIDTHS[width_name], "height": PHONE_SCREEN})
    for name, path, _action in PAGES:
        page.goto(live_server.url + path)
        screenshot(page, f"layout-{name}-{width_name}")
        assert visible_template_syntax(page.content()) == [], path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= WIDTHS[width_name], f"{path} is {width} px wide"
    assert page.js_errors == []


@pytest.mark.parametrize("width_name", list(WIDTHS))
def test_a_guide_is_read_in_the_sites_own_type_at_18_to_20_px_and_about_68_characters(
    page, live_server, long_url_guide, width_name
):
    page.set_viewport_size({"width": WIDTHS[width_name], "height": PHONE_SCREEN})
    page.goto(live_server.url + "/guides/long-url-guide/")
    paragraph = page.locator(".guide-body p").first
    style = paragraph.evaluate(
        "e => { const s = getComputedStyle(e); return [s.fontFamily, parseFloat(s.fontSize)]; }"
    )
    assert style[0] == page.evaluate("getComputedStyle(document.body).fontFamily")
    assert 18 <= style[1] <= 20
    measure = page.locator(".guide-body").evaluate(
        "e => parseFloat(getComputedStyle(e).maxWidth) / parseFloat(getComputedStyle(e).fontSize)"
    )
    assert 38 <= measure <= 46  # 68ch: the system sans's "0" is about .63em wide


def test_on_a_phone_what_the_visitor_came_for_starts_on_the_first_screen(
    page, live_server, long_url_guide
):
    page.set_viewport_size({"width": WIDTHS["phone"], "height": PHONE_SCREEN})
    tops = {}
    for name, path, action in PAGES:
        page.goto(live_server.url + path)
        tops[name] = round(top_of(page, action))
    print("first-screen tops (px):", tops)
    # At least a button's height of it shows on the first screen (it started 960-1,370 px down).
    assert {name: top for name, top in tops.items() if top > PHONE_SCREEN - 48} == {}


def test_the_header_fits_on_one_line_on_a_phone(page, live_server, demo_data):
    page.set_viewport_size({"width": WIDTHS["phone"], "height": PHONE_SCREEN})
    page.goto(live_server.url + "/")
    assert page.locator(".site-header").evaluate("e => e.offsetHeight") <= 72


def test_the_phone_menu_opens_without_script_and_lists_the_signed_in_pages(
    page, live_server, candidate
):
    from tests.conftest import PASSWORD

    page.set_viewport_size({"width": WIDTHS["phone"], "height": PHONE_SCREEN})
    page.goto(live_server.url + "/accounts/login/")
    page.fill("input[name=login]", candidate.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()
    page.goto(live_server.url + "/guides/")
    menu = page.locator(".nav-menu")
    assert not menu.get_by_role("link", name="Portal").is_visible()
    menu.locator("summary").click()
    assert menu.get_by_role("link", name="Library").is_visible()
    assert menu.get_by_role("link", name="Portal").is_visible()
    assert menu.get_by_role("button", name="Sign out").is_visible()
    screenshot(page, "layout-menu-phone", full_page=False)
