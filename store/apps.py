from typing import Any

from django.apps import AppConfig


def _product_address_is_live(view_name: str, kwargs: dict[str, Any], **extra: Any) -> bool:
    """coaching.redirects asks before saving a redirect: an active product answers here."""
    if view_name != "store:product":
        return False
    from store.models import Product

    return Product.objects.active().filter(slug=kwargs.get("slug")).exists()


# The store's answers to guides' questions (guides/signals.py).


def _paid_guides_for_user(user: Any, **extra: Any) -> list[int]:
    from store.services import entitled_paid_guide_ids

    return entitled_paid_guide_ids(user)


def _paid_guides_for_session(session: Any, **extra: Any) -> list[int]:
    from store import guest

    return guest.paid_guide_ids(session)


def _paywall_offers_for(guide: Any, **extra: Any) -> list[dict[str, str]]:
    from store.offers import offers_for_guide

    return offers_for_guide(guide)


class StoreConfig(AppConfig):
    name = "store"

    def ready(self) -> None:
        from coaching.redirects import address_is_live
        from guides import signals as guides_signals

        address_is_live.connect(_product_address_is_live, dispatch_uid="product-address")

        # The store is where paid guides are unlocked; guides never imports it.
        guides_signals.paid_guides_for_user.connect(_paid_guides_for_user, dispatch_uid="store")
        guides_signals.paid_guides_for_session.connect(
            _paid_guides_for_session, dispatch_uid="store"
        )
        guides_signals.paywall_offers_for.connect(_paywall_offers_for, dispatch_uid="store")
