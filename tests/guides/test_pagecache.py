import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest, HttpResponse
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


def test_a_members_page_is_never_kept_where_a_visitor_or_a_proxy_could_get_it(
    client, candidate, members_guide
):
    client.force_login(candidate)
    response = client.get(f"/guides/{members_guide.slug}/")
    assert response["Cache-Control"] == "private, no-store"
    assert "Zebracorn" in response.content.decode()
    visitor = Client().get(f"/guides/{members_guide.slug}/")
    # A miss: the member's page was not stored under the visitors' key.
    assert visitor["X-Page-Cache"] == "miss"
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


def test_query_parameters_a_page_does_not_read_share_its_one_stored_copy(client, public_guide):
    url = f"/guides/{public_guide.slug}/"
    assert client.get(f"{url}?a=1")["X-Page-Cache"] == "miss"
    assert client.get(f"{url}?b=2")["X-Page-Cache"] == "hit"
    assert client.get(url)["X-Page-Cache"] == "hit"
    assert client.get("/guides/?kind=article&utm_source=x")["X-Page-Cache"] == "miss"
    assert client.get("/guides/?fbclid=1&kind=article")["X-Page-Cache"] == "hit"


def test_each_value_of_a_parameter_a_page_reads_gets_its_own_copy(client, public_guide):
    assert client.get("/guides/")["X-Page-Cache"] == "miss"
    first_kind = client.get("/guides/?kind=article")
    assert first_kind["X-Page-Cache"] == "miss"
    assert client.get("/guides/?kind=article&page=2")["X-Page-Cache"] == "miss"
    assert client.get("/search/?q=careers")["X-Page-Cache"] == "miss"
    other = client.get("/search/?q=zebracorn")
    assert other["X-Page-Cache"] == "miss"
    assert "zebracorn" in other.content.decode()


def flash_cookie(text: str) -> str:
    """The cookie Django's message framework leaves for a visitor after a redirect."""
    storage = CookieStorage(HttpRequest())
    storage.add(constants.SUCCESS, text)
    response = HttpResponse()
    storage.update(response)
    return response.cookies[CookieStorage.cookie_name].value


def test_a_visitor_arriving_with_a_flash_message_sees_it_and_nobody_else_does(client, public_guide):
    url = f"/guides/{public_guide.slug}/"
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    arriving = Client()
    arriving.cookies[CookieStorage.cookie_name] = flash_cookie("You are subscribed.")
    page = arriving.get(url)
    assert "You are subscribed." in page.content.decode()
    assert "X-Page-Cache" not in page
    assert page["Cache-Control"] == "private, no-store"
    later = Client().get(url)
    assert later["X-Page-Cache"] == "hit"
    assert "You are subscribed." not in later.content.decode()
