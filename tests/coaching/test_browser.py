import pytest

from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visitor_opens_the_home_page_follows_a_guide_and_reads_it(page, live_server, demo_data):
    from guides.models import Guide

    page.goto(live_server.url + "/")
    screenshot(page, "home-desktop")
    first_card = page.locator(".card h3 a").first
    title = first_card.inner_text()
    first_card.click()
    page.wait_for_url("**/guides/**")
    assert page.locator("h1").inner_text() == title
    guide = Guide.objects.get(title=title)
    assert page.locator(".guide-body h2").count() == len([h for h in guide.toc if h["level"] == 2])
    screenshot(page, "guide-desktop")
    assert page.js_errors == []


def test_the_home_page_reads_well_on_a_phone(page, live_server, demo_data):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/")
    # Nothing overflows sideways on a phone.
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.get_by_role("link", name="Book a discovery call").first.is_visible()
    screenshot(page, "home-phone")
    assert page.js_errors == []
