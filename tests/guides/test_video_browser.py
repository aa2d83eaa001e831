import pytest

from tests.guides.factories import GuideFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_player_loads_from_the_host_only_after_the_visitor_presses_play(page, live_server):
    guide = GuideFactory(
        kind="video",
        title="Mock interview on system design",
        video_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        video_chapters="0:00 Clarify\n4:10 Architecture",
        body="## Notes\n\nClarify the requirements first.\n",
    )
    to_host: list[str] = []

    def stand_in(route):  # the host answers from here: the test needs no network
        to_host.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>player</p>")

    page.context.route("https://*.youtube-nocookie.com/**", stand_in)
    page.context.route("https://*.youtube.com/**", stand_in)
    page.goto(f"{live_server.url}/guides/{guide.slug}/")
    page.wait_for_load_state("networkidle")
    assert to_host == []
    assert page.locator("iframe").count() == 0

    page.get_by_role("link", name="Play the video").click()
    frame = page.locator("iframe.video-frame")
    frame.wait_for()
    assert frame.get_attribute("src").startswith("https://www.youtube-nocookie.com/embed/")
    page.wait_for_timeout(300)
    assert to_host and all("youtube-nocookie.com" in url for url in to_host)

    page.get_by_role("link", name="4:10 Architecture").click()
    page.wait_for_function("document.querySelector('iframe.video-frame').src.includes('start=250')")
    assert page.js_errors == []  # no Content-Security-Policy refusal either


def test_the_hub_sections_and_a_video_page_fit_a_phone(page, live_server):
    GuideFactory(
        kind="video",
        slug="video",
        title="A video guide with a rather long title to wrap on a phone",
        video_url="https://vimeo.com/76979871",
    )
    GuideFactory(title="An article")
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/guides/", "/guides/video/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, path
    assert page.js_errors == []
