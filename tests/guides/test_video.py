import re

import pytest
from django.core.exceptions import ValidationError

from guides.video import embed_for, format_duration, parse_chapters, validate_video_url
from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db

YOUTUBE = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
VIMEO = "https://vimeo.com/76979871"


@pytest.mark.parametrize(
    "url",
    [
        YOUTUBE,
        "https://youtu.be/dQw4w9WgXcQ",
        "https://www.youtube.com/embed/dQw4w9WgXcQ",
        "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ",
        "https://www.youtube.com/shorts/dQw4w9WgXcQ",
    ],
)
def test_every_youtube_address_embeds_from_the_no_cookie_host(url):
    embed = embed_for(url)
    assert embed is not None and embed.video_id == "dQw4w9WgXcQ"
    assert embed.embed_url.startswith("https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ")
    assert embed.origin == "https://www.youtube-nocookie.com"


def test_a_vimeo_address_embeds_from_the_vimeo_player_without_tracking():
    embed = embed_for("https://player.vimeo.com/video/76979871")
    assert embed == embed_for(VIMEO)
    assert embed is not None and embed.embed_url.endswith("/video/76979871?autoplay=1&dnt=1")
    assert embed.watch_url(75) == "https://vimeo.com/76979871#t=75s"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/watch?v=dQw4w9WgXcQ",
        "javascript:alert(1)//youtube.com/watch?v=dQw4w9WgXcQ",
        "https://www.youtube.com/watch?v=short",
        "https://vimeo.com/channels/staffpicks",
        "not a url at all",
    ],
)
def test_an_address_that_is_not_a_youtube_or_vimeo_video_is_refused(url):
    assert embed_for(url) is None
    with pytest.raises(ValidationError):
        validate_video_url(url)


def test_chapters_are_read_as_time_and_title_in_order_and_a_bad_line_is_named():
    chapters = parse_chapters("12:30 Trade-offs\n\n0:00 Clarify the problem\n1:02:03 - Wrap up")
    assert [(c.start, c.title, c.label) for c in chapters] == [
        (0, "Clarify the problem", "0:00"),
        (750, "Trade-offs", "12:30"),
        (3723, "Wrap up", "1:02:03"),
    ]
    with pytest.raises(ValueError, match="line 2"):
        parse_chapters("0:00 Start\nhalf way: the design")
    assert format_duration(59) == "0:59"


def test_the_admin_form_refuses_a_video_address_from_another_host():
    guide = GuideFactory.build(kind="video", video_url="https://example.com/v.mp4")
    with pytest.raises(ValidationError) as error:
        guide.full_clean(exclude=["category"])
    assert "video_url" in error.value.message_dict


def _video_guide(**fields):
    values = {
        "kind": "video",
        "title": "Mock interview on system design",
        "slug": "mock-system-design",
        "video_url": YOUTUBE,
        "video_chapters": "0:00 Clarify\n4:10 Architecture",
        "video_duration_seconds": 1925,
        "body": "## Transcript\n\nWe start by clarifying the requirements.\n",
    }
    return GuideFactory(**{**values, **fields})


def test_a_video_page_requests_nothing_from_the_host_until_the_visitor_clicks(client):
    guide = _video_guide()
    html = client.get(guide.get_absolute_url()).content.decode()
    # Without JavaScript the poster is a plain link to the video on YouTube.
    assert f'href="{YOUTUBE}"' in html
    assert 'data-embed="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1' in html
    assert "<iframe" not in html
    loaded = re.findall(r'<(?:img|script|iframe|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert not [url for url in loaded if "youtube" in url or "vimeo" in url]
    assert "/static/js/video.js" in html
    assert "Play the video (32:05)" in html
    assert 'href="https://www.youtube.com/watch?v=dQw4w9WgXcQ&amp;t=250s"' in html
    assert "Architecture" in html and "We start by clarifying" in html


def test_only_a_video_page_lets_frames_from_its_host_even_when_served_from_the_cache(client):
    video = _video_guide()
    vimeo = _video_guide(slug="vimeo-talk", title="A talk", video_url=VIMEO)
    article = GuideFactory(title="Plain article")

    first = client.get(video.get_absolute_url())
    cached = client.get(video.get_absolute_url())
    assert cached["X-Page-Cache"] == "hit"
    for response in (first, cached):
        policy = response["Content-Security-Policy"]
        assert "frame-src https://www.youtube-nocookie.com" in policy
        assert "vimeo" not in policy
        assert "script-src 'self'" in policy
    assert (
        "frame-src https://player.vimeo.com"
        in client.get(vimeo.get_absolute_url())["Content-Security-Policy"]
    )
    for _ in range(2):
        assert "frame-src" not in client.get(article.get_absolute_url())["Content-Security-Policy"]


def test_a_video_guide_is_in_the_hub_search_feeds_and_sitemap_like_any_guide(client):
    guide = _video_guide(title="Zebracorn mock interview")
    url = guide.get_absolute_url()
    assert url in client.get("/guides/").content.decode()
    assert url in client.get("/guides/?kind=video").content.decode()
    assert "Zebracorn mock interview" in client.get("/search/?q=zebracorn").content.decode()
    assert "Zebracorn mock interview" in client.get("/feeds/guides/").content.decode()
    assert url in client.get("/sitemap.xml").content.decode()


def test_a_video_without_an_address_shows_no_player_and_no_frame_policy(client):
    guide = _video_guide(video_url="")
    response = client.get(guide.get_absolute_url())
    assert "video-poster" not in response.content.decode()
    assert "frame-src" not in response["Content-Security-Policy"]


def test_a_video_elsewhere_saved_before_the_check_is_a_plain_link_never_a_frame(client):
    guide = _video_guide(video_url="https://video.example.com/talk")
    response = client.get(guide.get_absolute_url())
    html = response.content.decode()
    assert 'href="https://video.example.com/talk"' in html and "data-embed" not in html
    assert "frame-src" not in response["Content-Security-Policy"]


def test_the_video_page_and_the_hub_with_sections_and_tags_pass_the_markup_checks(client):
    from guides.models import Placement
    from guides.structure import tag_named
    from tests.coaching.test_markup import markup_problems

    guide = _video_guide()
    guide.tags.add(tag_named("Critical for offer evaluation"))
    Placement.objects.create(guide=guide, category=guide.category, is_primary=True)
    for path in (
        guide.get_absolute_url(),
        "/guides/",
        "/guides/?tag=critical-for-offer-evaluation",
    ):
        assert markup_problems(client.get(path).content.decode()) == [], path
