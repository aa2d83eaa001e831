from typing import Any

from django.apps import AppConfig


def _confirm_paid_booking(order: Any, **extra: Any) -> None:
    """store.signals.order_fulfilled: a paid order confirms its booking, once."""
    from bookings import payments

    payments.on_order_fulfilled(order)


class BookingsConfig(AppConfig):
    name = "bookings"

    def ready(self) -> None:
        from store.signals import order_fulfilled

        # The store tells us when an order is paid; it never imports bookings.
        order_fulfilled.connect(_confirm_paid_booking, dispatch_uid="bookings-confirm")
