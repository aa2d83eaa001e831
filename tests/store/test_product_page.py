"""The product page says each thing once."""

from __future__ import annotations

from typing import Any

import pytest

from store.models import Product
from tests.store.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_a_bundle_lists_each_bundled_product_once_linked_from_the_coachs_own_line(
    client: Any,
) -> None:
    study = ProductFactory(slug="study", title="AI Engineer study guide")
    online = ProductFactory(slug="online", title="All paid guides, online")
    kit = ProductFactory(
        slug="kit",
        title="Kit",
        kind=Product.Kind.BUNDLE,
        included="Everything in the AI Engineer study guide\nA printable checklist",
    )
    kit.bundled.add(study, online)

    html = client.get("/store/kit/").content.decode()

    assert html.count("AI Engineer study guide") == 1
    assert '<a href="/store/study/">Everything in the AI Engineer study guide</a>' in html
    assert '<a href="/store/online/">All paid guides, online</a>' in html
    assert "A printable checklist" in html


def test_the_refund_window_is_stated_once_when_the_policy_already_names_it(client: Any) -> None:
    ProductFactory(
        slug="guide",
        refund_window_days=14,
        refund_policy="Ask for a full refund from your library within 14 days of buying.",
    )
    html = client.get("/store/guide/").content.decode()
    assert html.count("14 days") == 1


def test_the_refund_window_is_added_when_the_policy_does_not_name_it(client: Any) -> None:
    ProductFactory(slug="guide", refund_window_days=14, refund_policy="No questions asked.")
    html = client.get("/store/guide/").content.decode()
    assert "for 14 days after buying" in html
