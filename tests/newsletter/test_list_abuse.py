"""What a subscriber can reach by editing a form: no private lists, and no lead
magnet except through the list's own public form; confirming takes a button press."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from newsletter import services, tokens
from newsletter.models import MailingList, Subscriber, Subscription
from store.models import Entitlement, Product
from tests.store.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_list(db: None) -> MailingList:
    return MailingList.objects.create(name="Coaching clients", slug="clients", is_public=False)


@pytest.fixture
def magnet_list(db: None) -> MailingList:
    product = ProductFactory(slug="cv-checklist", title="CV checklist", kind=Product.Kind.ONLINE)
    return MailingList.objects.create(name="CV tips", slug="cv-tips", lead_magnet=product)


def confirmed(weekly: MailingList, email: str = "reader@example.com") -> Subscriber:
    subscriber = services.subscribe(email=email, lists=[weekly], source="t", ip=None)
    services.confirm(subscriber_id=subscriber.pk)
    return Subscriber.objects.get(pk=subscriber.pk)


def preferences_url(subscriber: Subscriber) -> str:
    return f"/newsletter/preferences/{tokens.subscriber_token(subscriber.pk)}/"


def holds(subscriber: Subscriber, mailing_list: MailingList) -> bool:
    return Subscription.objects.filter(
        subscriber=subscriber, mailing_list=mailing_list, status="subscribed"
    ).exists()


def test_the_preferences_page_does_not_offer_a_private_list(client, weekly, private_list):
    page = client.get(preferences_url(confirmed(weekly))).content.decode()
    assert weekly.name in page
    assert private_list.name not in page


def test_a_private_list_cannot_be_joined_by_adding_its_id_to_the_preferences_form(
    client, weekly, private_list
):
    subscriber = confirmed(weekly)
    response = client.post(preferences_url(subscriber), {"lists": [weekly.pk, private_list.pk]})
    assert response.status_code == 400
    assert not holds(subscriber, private_list)


def test_a_private_list_the_person_holds_is_offered_and_can_be_left(client, weekly, private_list):
    subscriber = confirmed(weekly)
    Subscription.objects.create(subscriber=subscriber, mailing_list=private_list)
    url = preferences_url(subscriber)
    assert private_list.name in client.get(url).content.decode()
    client.post(url, {"lists": [weekly.pk]})
    assert not holds(subscriber, private_list)
    assert private_list.name not in client.get(url).content.decode()


def test_joining_a_list_on_the_preferences_page_grants_no_lead_magnet(client, weekly, magnet_list):
    subscriber = confirmed(weekly)
    client.post(preferences_url(subscriber), {"lists": [weekly.pk, magnet_list.pk]})
    assert holds(subscriber, magnet_list)
    # Leaving and coming back through the confirmation does not grant it either.
    services.unsubscribe(subscriber=subscriber)
    subscriber = services.subscribe(
        email=subscriber.email, lists=[magnet_list], source="t", ip=None
    )
    services.confirm(subscriber_id=subscriber.pk)
    assert not Entitlement.objects.exists()


def test_joining_through_the_lists_own_public_form_grants_its_lead_magnet(magnet_list):
    client = Client()
    page = client.get("/newsletter/subscribe/", {"list": magnet_list.slug}).content.decode()
    assert 'name="list" value="cv-tips"' in page
    client.post("/newsletter/subscribe/", {"email": "new@example.com", "list": magnet_list.slug})
    link = re.search(r"http://\S+/newsletter/confirm/\S+/", mail.outbox[-1].body)[0]
    client.post(link.split("testserver", 1)[-1] if "testserver" in link else link)
    subscriber = Subscriber.objects.get(email="new@example.com")
    assert subscriber.status == Subscriber.Status.CONFIRMED
    [entitlement] = Entitlement.objects.all()
    assert entitlement.product == magnet_list.lead_magnet


def test_a_private_lists_own_form_cannot_be_used_to_join_it(private_list):
    Client().post("/newsletter/subscribe/", {"email": "new@example.com", "list": private_list.slug})
    assert not Subscription.objects.filter(mailing_list=private_list).exists()


def test_opening_the_confirmation_page_even_running_its_scripts_confirms_nothing(
    client: Any, weekly
):
    client.post("/newsletter/subscribe/", {"email": "gina@example.com"})
    link = re.search(r"http://\S+/newsletter/confirm/\S+/", mail.outbox[0].body)[0]
    page = client.get(link).content.decode()
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "Yes, subscribe me" in page
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
