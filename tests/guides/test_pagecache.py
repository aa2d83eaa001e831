import pytest
from django.test import Client

from coaching.pagecache import bump_version
from tests.guides.factories import GuideFactory

pytestmark = pytest.mark.django_db


def test_a_visitor_gets_the_cached_page_on_the_second_request(client, public_guide):
    first = client.get(f"/guides/{public_guide.slug}/")
    second = client.get(f"/guides/{public_guide.slug}/")
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert first.content == second.content
    assert "Content-Security-Policy" in second.headers


def test_signed_in_and_gated_pages_are_never_stored_in_the_shared_cache(
    client, candidate, members_guide
):
    client.force_login(candidate)
    response = client.get(f"/guides/{members_guide.slug}/")
    assert "X-Page-Cache" not in response
    assert response["Cache-Control"] == "private, no-store"
    assert "Zebracorn" in response.content.decode()
    visitor = Client().get(f"/guides/{members_guide.slug}/")
    assert "Zebracorn" not in visitor.content.decode()


def test_a_change_to_a_guide_makes_the_cached_page_stale(client, public_guide):
    client.get(f"/guides/{public_guide.slug}/")
    public_guide.title = "A new title"
    public_guide.save()
    bump_version()  # what the commit hook does outside a test transaction
    response = client.get(f"/guides/{public_guide.slug}/")
    assert response["X-Page-Cache"] == "miss"
    assert "A new title" in response.content.decode()


def test_the_newsletter_form_on_a_cached_page_posts_for_the_second_visitor(public_guide):
    """The CSRF-token-in-cached-page trap: the second visitor's post must still work."""
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first.get(f"/guides/{public_guide.slug}/")
    page = second.get(f"/guides/{public_guide.slug}/")
    assert page["X-Page-Cache"] == "hit"
    html = page.content.decode()
    assert 'action="/newsletter/subscribe/"' in html
    assert "csrfmiddlewaretoken" not in html
    response = second.post("/newsletter/subscribe/", {"email": "second@example.com"})
    assert response.status_code in {200, 302}


def test_the_cached_hub_page_serves_without_touching_the_database(
    client, django_assert_num_queries
):
    GuideFactory.create_batch(3)
    client.get("/guides/")
    with django_assert_num_queries(0):
        assert client.get("/guides/")["X-Page-Cache"] == "hit"
