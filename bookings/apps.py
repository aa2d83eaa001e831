from django.apps import AppConfig


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        from bookings import payments
        from store.services import register_fulfilment_handler

        # The store tells us when an order is paid; it never imports bookings.
        register_fulfilment_handler(payments.on_order_fulfilled)
