import pytest

from tests.conftest import screenshot
from tests.guides.factories import GuideFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_BODY = "\n\n".join(
    f"## {n}. Section {n}\n\n"
    + ("Useful words about interviews for AI roles. " * 60)
    + f"\n\n### {n}.1 Detail {n}\n\n"
    + ("More detail on preparing well. " * 40)
    for n in range(1, 7)
)


def test_a_visitor_reads_a_guide_with_its_contents_and_jumps_to_a_section(page, live_server):
    guide = GuideFactory(title="Preparing for AI interviews", body=LONG_BODY)
    page.goto(f"{live_server.url}/guides/{guide.slug}/")
    toc = page.locator(".toc-list a")
    assert toc.count() == 12
    toc.nth(4).click()
    page.wait_for_function("location.hash === '#3-section-3'")
    page.wait_for_timeout(300)
    assert page.locator(".toc-list a[aria-current=true]").inner_text() == "3. Section 3"
    screenshot(page, "guide-reading-desktop", full_page=False)
    assert page.js_errors == []


def test_on_a_phone_the_contents_fold_into_a_button(page, live_server):
    guide = GuideFactory(title="Preparing for AI interviews", body=LONG_BODY)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/guides/{guide.slug}/")
    assert not page.locator(".toc-list").is_visible()
    page.get_by_text("Contents", exact=True).click()
    assert page.locator(".toc-list").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, "guide-phone", full_page=False)


def test_a_visitor_hits_the_paywall_of_a_paid_guide(page, live_server):
    guide = GuideFactory(title="The negotiation playbook", visibility="paid")
    page.goto(f"{live_server.url}/guides/{guide.slug}/")
    assert page.get_by_role("heading", name="Unlock the full guide").is_visible()
    assert "Zebracorn" not in page.content()
    screenshot(page, "guide-paywall", full_page=False)


def test_a_visitor_finds_a_guide_by_searching_a_misspelled_query(page, live_server):
    GuideFactory(
        title="The transformer interview guide",
        body="Transformer interviews start from attention: what it is and why it scales.\n",
    )
    GuideFactory(title="Negotiating an offer")
    page.goto(f"{live_server.url}/guides/")
    page.get_by_label("Search the guides").fill("transfomer interview")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert "Showing results for" in page.locator(".did-you-mean").inner_text()
    assert page.locator(".search-hit mark").first.inner_text() == "Transformer"
    screenshot(page, "search-corrected", full_page=False)
    page.get_by_role("link", name="The transformer interview guide").click()
    assert page.locator("h1").inner_text() == "The transformer interview guide"
    assert page.js_errors == []


def test_on_a_phone_a_visitor_asks_a_question_and_opens_the_guide_that_answers(page, live_server):
    answer = GuideFactory(
        title="Negotiating your offer",
        summary="Salary, equity and bonus: what to ask for.",
        body="Anchor high, ask for equity and a signing bonus.\n",
    )
    GuideFactory(title="Federated learning in hospitals", summary="Training without sharing.")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/guides/")
    page.get_by_label("Search the guides").fill(
        "how much money should I ask for when they make me an offer"
    )
    page.keyboard.press("Enter")
    page.wait_for_url("**/search/?q=*")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    screenshot(page, "search-question-phone", full_page=False)
    page.locator(".search-hit a").first.click()
    page.wait_for_url(f"**/guides/{answer.slug}/")
    assert page.get_by_role("heading", name="Negotiating your offer").first.is_visible()
    assert page.js_errors == []
