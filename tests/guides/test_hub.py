import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.guides.factories import CategoryFactory, GuideFactory, RoleFactory

pytestmark = pytest.mark.django_db


def test_the_hub_lists_categories_with_counts_of_published_guides(client):
    interviews = CategoryFactory(name="Interviews", slug="interviews")
    GuideFactory.create_batch(3, category=interviews)
    GuideFactory(category=interviews, status="draft", published_at=None)
    html = client.get("/guides/").content.decode()
    assert 'Interviews <span class="count">3</span>' in html


def test_the_hub_filters_by_category_role_kind_and_level(client):
    role = RoleFactory(name="Researcher", slug="researcher")
    wanted = GuideFactory(title="Wanted guide", kind="study-guide", level="advanced")
    wanted.roles.add(role)
    GuideFactory(title="Other guide", kind="article")
    response = client.get(
        f"/guides/?category={wanted.category.slug}&role=researcher&kind=study-guide&level=advanced"
    )
    html = response.content.decode()
    assert "Wanted guide" in html
    assert "Other guide" not in html
    assert "1 guide matches your filters" in html


def test_the_hub_sorts_by_most_read(client):
    GuideFactory(title="Quiet guide", view_count=1)
    GuideFactory(title="Popular guide", view_count=500)
    html = client.get("/guides/?sort=most-read").content.decode()
    assert html.index("Popular guide") < html.index("Quiet guide")


def test_the_hub_paginates_and_ignores_a_nonsense_page_number(client):
    GuideFactory.create_batch(30)
    assert "Page 2 of 2" in client.get("/guides/?page=2").content.decode()
    assert client.get("/guides/?page=banana").status_code == 200
    assert client.get("/guides/?kind=<script>").status_code == 200


def test_the_hub_runs_the_same_number_of_queries_for_10_or_60_guides(client, candidate):
    client.force_login(candidate)  # signed in, so the page cache stays out of the count
    GuideFactory.create_batch(10)
    client.get("/guides/")  # the menus are remembered from here on, for both counts
    with CaptureQueriesContext(connection) as few:
        client.get("/guides/")
    GuideFactory.create_batch(50)
    with CaptureQueriesContext(connection) as many:
        client.get("/guides/")
    assert len(many) == len(few)


def test_a_guide_page_has_contents_related_guides_and_the_call_to_action(client):
    category = CategoryFactory()
    guide = GuideFactory(
        category=category,
        body="## 1. Why\n\nText.\n\n<!-- cta -->\n\n## 2. How\n\nMore.\n\n### 2.1 Detail\n\nEnd.\n",
    )
    GuideFactory(title="A neighbour guide", category=category)
    html = client.get(f"/guides/{guide.slug}/").content.decode()
    assert html.count('class="toc-level-') == 3
    assert 'href="#2-how"' in html
    assert html.index('id="1-why"') < html.index("inline-cta") < html.index('id="2-how"')
    assert "A neighbour guide" in html
    assert 'rel="canonical"' in html


def test_reading_a_guide_counts_a_view_and_remembers_a_signed_in_reader(client, candidate):
    from guides.models import GuideView

    guide = GuideFactory()
    client.post(f"/guides/{guide.slug}/viewed/")
    client.force_login(candidate)
    client.post(f"/guides/{guide.slug}/viewed/")
    guide.refresh_from_db()
    assert guide.view_count == 2
    assert list(GuideView.objects.values_list("user", flat=True).order_by("pk")) == [
        None, candidate.pk,
    ]  # fmt: skip
    assert client.post("/guides/no-such-guide/viewed/").status_code == 404
    assert client.get(f"/guides/{guide.slug}/viewed/").status_code == 405


def test_the_sitemap_lists_published_guides_and_robots_points_to_it(client):
    live = GuideFactory(title="Live")
    draft = GuideFactory(status="draft", published_at=None)
    sitemap = client.get("/sitemap.xml").content.decode()
    assert f"/guides/{live.slug}/" in sitemap
    assert f"/guides/{draft.slug}/" not in sitemap
    robots = client.get("/robots.txt").content.decode()
    assert "Sitemap: " in robots and "Disallow: /admin/" in robots
