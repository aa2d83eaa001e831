"""The paywall of a paid guide lists the store's products that unlock it."""

from __future__ import annotations

from typing import Any

import pytest

from guides.access import paywall_offers
from store.models import Product
from tests.store.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_the_paywall_lists_the_product_that_unlocks_the_guide(
    paid_guide: Any, product: Product
) -> None:
    assert paywall_offers(paid_guide) == [
        {
            "title": "Study guide",
            "price": "£29",
            "url": f"/store/study-guide/?from={paid_guide.slug}",
            "summary": "A useful thing.",
        }
    ]


def test_bundles_containing_the_guide_come_after_the_products_themselves(
    paid_guide: Any, product: Product
) -> None:
    bundle = ProductFactory(
        slug="everything", title="Everything", kind=Product.Kind.BUNDLE, price=4950
    )
    bundle.bundled.add(product)
    online = ProductFactory(slug="online", title="Online access", kind=Product.Kind.ONLINE)
    online.guides.add(paid_guide)

    offers = paywall_offers(paid_guide)

    back = f"?from={paid_guide.slug}"
    assert [(o["title"], o["price"], o["url"]) for o in offers] == [
        ("Online access", "£29", f"/store/online/{back}"),
        ("Study guide", "£29", f"/store/study-guide/{back}"),
        ("Everything", "£49.50", f"/store/everything/{back}"),
    ]


def test_inactive_or_unpriced_products_and_other_guides_are_not_offered(
    paid_guide: Any, product: Product
) -> None:
    product.is_active = False
    product.save(update_fields=["is_active"])
    unpriced = ProductFactory(slug="unpriced", kind=Product.Kind.ONLINE)
    unpriced.prices.update(is_active=False)
    unpriced.guides.add(paid_guide)
    ProductFactory(slug="unrelated", kind=Product.Kind.ONLINE)

    assert paywall_offers(paid_guide) == []


def test_the_guide_page_shows_the_offer_to_a_visitor(
    client: Any, paid_guide: Any, product: Product
) -> None:
    html = client.get(f"/guides/{paid_guide.slug}/").content.decode()

    assert f'href="/store/study-guide/?from={paid_guide.slug}"' in html
    assert "£29" in html
    assert "SECRET PAID PARAGRAPH" not in html


def test_the_cheapest_way_to_read_on_comes_first_so_the_main_button_leads_to_it(
    paid_guide: Any, product: Product
) -> None:
    online = ProductFactory(
        slug="online", title="Online access", kind=Product.Kind.ONLINE, price=1900, position=9
    )
    online.guides.add(paid_guide)

    offers = paywall_offers(paid_guide)

    assert [o["title"] for o in offers] == ["Online access", "Study guide"]
