from typing import Any

from django.apps import AppConfig


def _product_address_is_live(view_name: str, kwargs: dict[str, Any], **extra: Any) -> bool:
    """coaching.redirects asks before saving a redirect: an active product answers here."""
    if view_name != "store:product":
        return False
    from store.models import Product

    return Product.objects.active().filter(slug=kwargs.get("slug")).exists()


class StoreConfig(AppConfig):
    name = "store"

    def ready(self) -> None:
        from coaching.redirects import address_is_live
        from guides.access import (
            register_entitlement_source,
            register_offer_source,
            register_session_entitlement_source,
        )
        from store import guest
        from store.offers import offers_for_guide
        from store.services import entitled_paid_guide_ids

        address_is_live.connect(_product_address_is_live, dispatch_uid="product-address")

        # The store is where paid guides are unlocked; guides never imports it.
        register_entitlement_source(entitled_paid_guide_ids)
        register_session_entitlement_source(guest.paid_guide_ids)
        register_offer_source(offers_for_guide)
