"""Beat tasks: reminders from due rows, the hold sweeper, the coach's busy calendars;
refunds of paid bookings.

All are safe to run twice: rows are claimed or locked and re-checked.
"""

from __future__ import annotations

from celery import shared_task

from bookings import busy, payments, seats, services
from bookings.models import BusyCalendar
from coaching.tasks import enqueue
from store.stripe_gateway import GatewayError


@shared_task
def send_due_reminders_task() -> int:
    return services.send_due_reminders()


@shared_task
def expire_holds_task() -> int:
    expired = services.expire_holds()
    # Seats held for the seat waitlist or awaiting payment run out on the same beat.
    expired += seats.expire_seat_holds()
    # The same beat also retries refunds a Stripe outage or a dead broker left behind.
    payments.refund_stranded_payments()
    return expired


@shared_task(autoretry_for=(GatewayError,), retry_backoff=30, max_retries=5)
def refund_booking_payment_task(booking_id: int) -> str:
    return payments.refund_booking_payment(booking_id=booking_id)


@shared_task(autoretry_for=(GatewayError,), retry_backoff=30, max_retries=5)
def refund_seat_payment(seat_id: int) -> str:
    return payments.refund_seat_payment(seat_id=seat_id)


@shared_task
def refresh_busy_calendars() -> int:
    """Beat: one task per active calendar, so that one slow server delays no other."""
    feed_ids = list(BusyCalendar.objects.filter(is_active=True).values_list("pk", flat=True))
    for feed_id in feed_ids:
        enqueue(refresh_busy_calendar_task, feed_id)
    return len(feed_ids)


@shared_task
def refresh_busy_calendar_task(feed_id: int) -> str:
    feed = BusyCalendar.objects.filter(pk=feed_id).first()
    if feed is None:
        return "gone"
    return busy.refresh_busy_calendar(feed=feed)
