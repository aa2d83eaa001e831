"""Beat tasks: reminders from due rows and the hold sweeper; refunds of paid bookings.

All are safe to run twice: rows are claimed or locked and re-checked.
"""

from __future__ import annotations

from celery import shared_task

from bookings import payments, services
from store.stripe_gateway import GatewayError


@shared_task
def send_due_reminders() -> int:
    return services.send_due_reminders()


@shared_task
def expire_holds() -> int:
    expired = services.expire_holds()
    # The same beat also retries refunds a Stripe outage or a dead broker left behind.
    payments.refund_stranded_payments()
    return expired


@shared_task(autoretry_for=(GatewayError,), retry_backoff=30, max_retries=5)
def refund_booking_payment(booking_id: int) -> str:
    return payments.refund_booking_payment(booking_id=booking_id)
