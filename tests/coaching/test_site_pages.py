"""The coach's own pages, menus, testimonials per service, and what shared links show."""

import json
import re

import pytest
from django.core.exceptions import ValidationError

from coaching import models
from coaching.models import CoachingOffer, MenuItem, Page
from coaching.pagecache import bump_version
from tests.coaching.test_images import photo, public_media  # noqa: F401 - a fixture
from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db


def json_ld(html):
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert blocks, "no JSON-LD on the page"
    return [json.loads(block) for block in blocks]


def meta(html, name):
    found = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)"', html)
    return found[1] if found else None


def test_a_page_written_in_markdown_is_served_at_its_slug_rendered_and_sanitised(client):
    Page.objects.create(
        title="Speaking",
        slug="speaking",
        body="## Talks\n\nI speak about **AI careers**.\n\n<script>alert(1)</script>",
    )
    response = client.get("/speaking/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Speaking</h1>" in html
    assert "<strong>AI careers</strong>" in html
    assert "<script>alert(1)</script>" not in html


def test_an_unpublished_page_answers_404(client):
    Page.objects.create(title="Papers", slug="papers", body="Soon", is_published=False)
    assert client.get("/papers/").status_code == 404


def test_a_page_cannot_take_the_address_of_another_part_of_the_site():
    with pytest.raises(ValidationError) as error:
        Page(title="Guides", slug="guides", body="x").full_clean()
    assert "slug" in error.value.message_dict
    with pytest.raises(ValidationError):
        Page(title="Contact", slug="contact", body="x").full_clean()


def test_an_about_page_replaces_the_built_in_one_at_the_same_address(client, demo_data):
    assert "About Alex Morgan" in client.get("/about/").content.decode()
    page = Page(title="About me", slug="about", body="I coached **many** people.")
    page.full_clean()
    page.save()
    bump_version()  # what the commit hook does outside a test transaction
    html = client.get("/about/").content.decode()
    assert "<h1>About me</h1>" in html
    assert "<strong>many</strong>" in html


def test_without_menu_items_the_header_and_footer_keep_the_built_in_links(client, db):
    html = client.get("/coaching/").content.decode()
    assert '<a href="/guides/">Guides</a>' in html
    assert '<a href="/newsletter/archive/">Newsletter archive</a>' in html
    assert '<a href="/contact/">Contact</a>' in html


def test_menu_items_replace_the_header_and_footer_links_in_their_order(client, db):
    speaking = Page.objects.create(title="Speaking", slug="speaking", body="Talks")
    MenuItem.objects.create(menu="nav", position=2, page=speaking)
    MenuItem.objects.create(menu="nav", position=1, url="/guides/", label="Read the guides")
    MenuItem.objects.create(menu="footer", position=1, url="/contact/", label="Write to me")
    hidden = Page.objects.create(title="Draft", slug="draft", body="x", is_published=False)
    MenuItem.objects.create(menu="nav", position=3, page=hidden)
    html = client.get("/speaking/").content.decode()
    header = html.split("</header>")[0]
    assert header.index("Read the guides") < header.index(">Speaking<")
    assert 'href="/speaking/" aria-current="page">Speaking' in header
    assert "Draft" not in header
    assert ">Store<" not in header
    footer = html.split('<footer class="site-footer">')[1]
    assert '<a href="/contact/">Write to me</a>' in footer
    assert "All guides" not in footer


def test_a_menu_item_needs_a_page_or_an_address_but_not_both(db):
    page = Page.objects.create(title="Media", slug="media", body="x")
    with pytest.raises(ValidationError):
        MenuItem(menu="nav", page=page, url="/media/").full_clean()
    with pytest.raises(ValidationError):
        MenuItem(menu="nav", label="Nothing").full_clean()
    with pytest.raises(ValidationError):
        MenuItem(menu="nav", url="javascript:alert(1)", label="x").full_clean()


def test_a_changed_menu_reaches_pages_already_cached_for_visitors(client, db):
    client.get("/coaching/")
    assert client.get("/coaching/")["X-Page-Cache"] == "hit"
    MenuItem.objects.create(menu="nav", url="/book/", label="Start here")
    bump_version()  # what the commit hook does outside a test transaction
    assert "Start here" in client.get("/coaching/").content.decode()


def test_a_service_page_shows_only_the_testimonials_that_belong_to_it(client, db):
    sprint = CoachingOffer.objects.create(
        title="Interview sprint", slug="interview-sprint", summary="Three sessions.",
        description="For people with interviews.", price_label="£450",
    )  # fmt: skip
    other = CoachingOffer.objects.create(
        title="Speaking", slug="talks", summary="Talks.", description="x", price_label="Ask"
    )
    models.Testimonial.objects.create(
        quote="The mock was harder than the real thing.", author="D.", offer=sprint
    )
    models.Testimonial.objects.create(quote="A great keynote.", author="E.", offer=other)
    models.Testimonial.objects.create(
        quote="Hidden one.", author="F.", offer=sprint, is_published=False
    )
    response = client.get("/coaching/interview-sprint/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The mock was harder than the real thing." in html
    assert "A great keynote." not in html
    assert "Hidden one." not in html
    assert 'href="/coaching/interview-sprint/"' in client.get("/coaching/").content.decode()


@pytest.mark.usefixtures("public_media")
def test_a_guide_page_carries_open_graph_twitter_canonical_and_parseable_json_ld(client):
    guide = GuideFactory(
        title='Negotiating </script><script>alert(1)</script> "offers"',
        slug="negotiating",
        video_url="https://video.example.com/embed/42",
        cover_image=photo(1300, 700),
    )
    html = client.get(f"/guides/{guide.slug}/").content.decode()
    assert meta(html, "og:type") == "article"
    assert meta(html, "og:url").endswith("/guides/negotiating/")
    assert meta(html, "og:image").startswith("http")
    assert meta(html, "og:image").endswith(".jpg")
    assert meta(html, "twitter:card") == "summary_large_image"
    assert '<link rel="canonical" href="' in html
    assert "<script>alert(1)</script>" not in html
    graph = json_ld(html)[0]["@graph"]
    kinds = {item["@type"]: item for item in graph}
    assert kinds["Article"]["headline"].startswith("Negotiating </script>")
    assert kinds["VideoObject"]["embedUrl"] == "https://video.example.com/embed/42"
    crumbs = kinds["BreadcrumbList"]["itemListElement"]
    assert [c["position"] for c in crumbs] == [1, 2, 3]


def test_a_guide_without_a_video_has_no_video_object(client):
    guide = GuideFactory(slug="plain")
    html = client.get(f"/guides/{guide.slug}/").content.decode()
    graph = json_ld(html)[0]["@graph"]
    assert "VideoObject" not in {item["@type"] for item in graph}
    # No uploaded cover: no picture in the preview (networks do not show the drawn SVG).
    assert meta(html, "og:image") is None
    assert meta(html, "twitter:card") == "summary"


def test_a_guide_with_its_own_canonical_address_keeps_it(client):
    guide = GuideFactory(slug="moved", canonical_url="https://elsewhere.example.com/moved")
    html = client.get(f"/guides/{guide.slug}/").content.decode()
    assert '<link rel="canonical" href="https://elsewhere.example.com/moved">' in html
    assert html.count('rel="canonical"') == 1


def test_pages_and_offers_carry_a_canonical_address_and_breadcrumbs(client, db):
    Page.objects.create(title="Papers", slug="papers", body="x", description="My papers.")
    CoachingOffer.objects.create(
        title="Sprint", slug="sprint", summary="Three.", description="x", price_label="£1"
    )
    for path in ["/papers/", "/coaching/sprint/"]:
        html = client.get(path).content.decode()
        assert re.search(rf'<link rel="canonical" href="http[^"]+{path}">', html), path
        assert meta(html, "og:title"), path
        graph = json_ld(html)[0]["@graph"]
        assert graph[0]["@type"] == "BreadcrumbList", path


def test_the_sitemap_lists_the_coachs_pages_and_offers_but_not_unpublished_ones(client, db):
    Page.objects.create(title="Speaking", slug="speaking", body="x")
    Page.objects.create(title="Draft", slug="draft", body="x", is_published=False)
    CoachingOffer.objects.create(
        title="Sprint", slug="sprint", summary="Three.", description="x", price_label="£1"
    )
    xml = client.get("/sitemap.xml").content.decode()
    assert "/speaking/</loc>" in xml
    assert "/coaching/sprint/</loc>" in xml
    assert "/contact/</loc>" in xml
    assert "/draft/" not in xml


def test_the_demo_shows_its_pages_in_the_footer_and_quotes_on_each_offer(client, demo_data):
    footer = client.get("/").content.decode().split('<footer class="site-footer">')[1]
    assert '<a href="/speaking/">Speaking</a>' in footer
    assert '<a href="/contact/">Contact</a>' in footer
    assert client.get("/papers/").status_code == 200
    assert (
        "harder than the real interview"
        in client.get("/coaching/interview-sprint/").content.decode()
    )


def test_the_coach_writes_a_page_and_arranges_a_menu_in_the_admin(coach_client, demo_data):
    for path in [
        "/admin/coaching/page/add/",
        "/admin/coaching/menuitem/add/",
        "/admin/coaching/redirect/add/",
        "/admin/coaching/redirect/import/",
        f"/admin/coaching/coachingoffer/{CoachingOffer.objects.first().pk}/change/",
    ]:
        assert coach_client.get(path).status_code == 200, path
    response = coach_client.post(
        "/admin/coaching/page/add/",
        {
            "title": "Media",
            "slug": "media",
            "description": "",
            "body": "On air.",
            "is_published": "on",
        },
    )
    assert response.status_code == 302
    refused = coach_client.post(
        "/admin/coaching/page/add/",
        {"title": "Store", "slug": "store", "description": "", "body": "x", "is_published": "on"},
    )
    assert refused.status_code == 200
    assert "already a page of the site" in refused.content.decode()
    page = Page.objects.get(slug="media")
    response = coach_client.post(
        "/admin/coaching/menuitem/add/",
        {"menu": "nav", "position": "5", "page": page.pk, "url": "", "label": ""},
    )
    assert response.status_code == 302
    assert MenuItem.objects.filter(page=page, menu="nav").exists()
