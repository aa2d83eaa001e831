"""What the paywall of a paid guide offers: the store's products that unlock it."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from coaching.money import format_money
from store.models import Product


def offers_for_guide(guide: Any) -> list[dict[str, str]]:
    """guides.access's offer source: active, priced products that unlock `guide`.

    Products that include the guide come first, cheapest first (the paywall's main
    button goes to the first: the least a reader pays to read on), then bundles that
    contain one of them (a bundle grants what it bundles, see Product.granted_products).
    """
    products = (
        Product.objects.active()
        .filter(Q(guides=guide) | Q(kind=Product.Kind.BUNDLE, bundled__guides=guide))
        .exclude(kind=Product.Kind.SESSION)
        .distinct()
        .prefetch_related("prices")
        .order_by("position", "title")
    )
    direct = sorted(
        (p for p in products if p.kind != Product.Kind.BUNDLE),
        key=lambda p: p.price.amount if p.price else 0,
    )
    bundles = [p for p in products if p.kind == Product.Kind.BUNDLE]
    offers = []
    for product in [*direct, *bundles]:
        price = product.price
        if price is None:
            continue  # not on sale: nothing to offer
        offers.append(
            {
                "title": product.title,
                "price": format_money(price.amount, price.currency, short=True),
                # The success page links back to the guide whose paywall led there.
                "url": f"{product.get_absolute_url()}?from={guide.slug}",
                "summary": product.summary,
            }
        )
    return offers
