"""The interactive "14 layers" page in a real browser: keys, scrolling, deep links, widths."""

from __future__ import annotations

from typing import Any

import pytest

from guides.interactive import import_interactive
from tests.conftest import screenshot
from tests.guides.factories import GuideFactory
from tests.guides.test_interactive import LAYERS, STACK
from tests.pagecheck import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {390: 844, 1280: 800}
CURRENT = "document.querySelector('.stack-indicator').getAttribute('data-current')"


@pytest.fixture
def stack_url(live_server: Any, corpus_dir: Any) -> str:
    guide = GuideFactory(
        title="The 14 Layers of the AI Stack",
        kind="interactive",
        summary="From the rare earth mines to the apps billions use.",
        body="",
        read_time_minutes=137,
    )
    import_interactive(guide, (corpus_dir / "articles" / STACK).read_text(encoding="utf-8"))
    return f"{live_server.url}{guide.get_absolute_url()}"


def wait_for_part(page: Any, n: int) -> None:
    """Polled from Python: the page's CSP forbids the eval behind `wait_for_function`."""
    for _ in range(50):
        if current(page) == n:
            return
        page.wait_for_timeout(100)
    assert current(page) == n


def current(page: Any) -> int:
    return int(page.evaluate(CURRENT) or 0)


def indicator_title(page: Any) -> str:
    return page.locator(".stack-current-title").inner_text()


def no_sideways_scroll(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def top_of_part(page: Any, n: int) -> float:
    return page.evaluate(f"document.getElementById('part-{n}').getBoundingClientRect().top")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_reader_walks_the_stack_by_keyboard(page, stack_url, width):
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    page.goto(stack_url)
    assert page.locator(".stack-indicator").is_visible()
    assert current(page) == 0
    screenshot(page, f"stack-overview-{width}", full_page=False)
    page.keyboard.press("j")
    assert current(page) == 1 and indicator_title(page) == "Raw Materials"
    assert page.evaluate("location.hash") == "#part-1"
    for n in range(2, 5):
        page.keyboard.press("ArrowRight" if n % 2 else "j")
        assert current(page) == n and indicator_title(page) == LAYERS[n - 1]
    # The part starts just below the sticky bar, not hidden under it.
    bar_bottom = page.evaluate(
        "document.querySelector('.stack-indicator').getBoundingClientRect().bottom"
    )
    assert bar_bottom <= top_of_part(page, 4) <= bar_bottom + 40
    if width >= 1100:  # the contents beside the text agree on the current part
        page.wait_for_timeout(200)
        assert page.locator(".toc-list a[aria-current=true]").inner_text() == LAYERS[3]
    screenshot(page, f"stack-keyboard-part-4-{width}", full_page=False)
    page.keyboard.press("k")
    page.keyboard.press("ArrowLeft")
    assert current(page) == 2 and page.evaluate("location.hash") == "#part-2"
    # A click where the button is on screen: Playwright's own scrolling into view
    # centres a sticky element by moving the page, which no reader's click does.
    box = page.locator(".stack-step[data-step='1']").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_for_part(page, 3)
    assert no_sideways_scroll(page)
    check_page(page)
    assert page.js_errors == []


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sticky_bar_follows_a_reader_who_scrolls(page, stack_url, width):
    page.set_viewport_size({"width": width, "height": WIDTHS[width]})
    page.goto(stack_url)
    seen = []
    for n in (3, 7, 14):
        page.evaluate(f"window.scrollTo(0, window.scrollY + {top_of_part(page, n)} + 300)")
        wait_for_part(page, n)
        seen.append(indicator_title(page))
        assert page.locator(".stack-indicator").is_visible()
        assert (
            page.evaluate("document.querySelector('.stack-indicator').getBoundingClientRect().top")
            >= 0
        )
        assert no_sideways_scroll(page)
    assert seen == [LAYERS[2], LAYERS[6], LAYERS[13]]
    assert page.evaluate("location.hash") == "#part-14"
    screenshot(page, f"stack-scrolled-part-14-{width}", full_page=False)
    page.evaluate("window.scrollTo(0, 0)")
    wait_for_part(page, 0)
    assert page.evaluate("location.hash") == ""
    assert page.js_errors == []


def test_a_deep_link_opens_at_its_part_and_the_overview_jumps(page, stack_url):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{stack_url}#part-9")
    wait_for_part(page, 9)
    assert 0 <= top_of_part(page, 9) < 200
    assert indicator_title(page) == "Training Data"
    screenshot(page, "stack-deep-link-390", full_page=False)
    page.evaluate("window.scrollTo(0, 0)")
    page.locator(".stack-overview a[data-goto='12']").click()
    wait_for_part(page, 12)
    assert page.evaluate("location.hash") == "#part-12"
    assert page.js_errors == []


def test_without_javascript_the_stack_reads_top_to_bottom(browser, stack_url):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto(stack_url)
        parts = page.locator("[data-part]")
        assert parts.count() == 14
        assert [parts.nth(i).get_attribute("data-part") for i in range(14)] == [
            str(n) for n in range(1, 15)
        ]
        assert not page.locator(".stack-indicator").is_visible()
        page.locator(".stack-part-nav a[rel=next]").first.click()
        assert page.url.endswith("#part-2")
        assert 0 <= top_of_part(page, 2) < 100
        assert no_sideways_scroll(page)
        screenshot(page, "stack-no-javascript-390", full_page=False)
    finally:
        context.close()


def test_the_coach_sees_the_parts_inline_on_the_guide_admin_page(page, live_server, coach):
    from tests.clients.test_browser import sign_in
    from tests.guides.test_interactive import SMALL

    guide = GuideFactory(kind="interactive", title="Three steps")
    import_interactive(guide, SMALL)
    sign_in(page, live_server, coach)
    page.goto(
        f"{live_server.url}/admin/guides/guide/{guide.pk}/change/",
        wait_until="domcontentloaded",
        timeout=60_000,
    )
    assert page.locator("input[name='parts-0-title']").input_value() == "Find"
    assert page.locator("textarea[name='parts-0-key_figures']").input_value() == (
        "Problems found: 12 (2025)"
    )
    page.locator("input[name='parts-0-title']").scroll_into_view_if_needed()
    screenshot(page, "stack-admin-parts-1280", full_page=False)
