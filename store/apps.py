from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "store"

    def ready(self) -> None:
        from guides.access import (
            register_entitlement_source,
            register_offer_source,
            register_session_entitlement_source,
        )
        from store import guest
        from store.offers import offers_for_guide
        from store.services import entitled_paid_guide_ids

        # The store is where paid guides are unlocked; guides never imports it.
        register_entitlement_source(entitled_paid_guide_ids)
        register_session_entitlement_source(guest.paid_guide_ids)
        register_offer_source(offers_for_guide)
