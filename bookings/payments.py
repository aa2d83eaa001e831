"""Paid sessions through the store: start the checkout, confirm on payment, refund.

The store never imports bookings (apps depend downward): it calls
`on_order_fulfilled` through its fulfilment hook, once per order, inside the
fulfilment transaction. Refunds go through the store's gateway after commit,
in a task that locks the order and is safe to run twice.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from bookings import emails, seats
from bookings.models import Booking, EventType, Seat
from bookings.services import BookingError, confirm_paid_booking
from bookings.tokens import manage_token
from coaching.tasks import enqueue_on_commit
from store import services as store_services
from store import stripe_gateway
from store.models import Order

log = logging.getLogger(__name__)

# Statuses whose payment goes back: the time was lost, or cancelled in time.
REFUNDABLE = {Booking.Status.EXPIRED, Booking.Status.CANCELLED}
SEAT_REFUNDABLE = {Seat.Status.EXPIRED, Seat.Status.CANCELLED}


def minor_units(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def refund_policy_text(event_type: EventType) -> str:
    return (
        f"Cancel at least {event_type.cancel_cutoff_hours} hours before the session for a "
        "full refund. Later cancellations and missed sessions are not refunded. If your "
        "payment arrives after the time was given to someone else, it is refunded in full."
    )


def checkout_url(booking: Booking) -> str | None:
    """bookings.services' checkout hook: where a pending-payment booking is paid."""
    if booking.event_type.kind != EventType.Kind.PAID:
        return None
    return reverse("bookings:pay", args=[manage_token(booking)])


def start_payment(*, booking: Booking, success_url: str, return_url: str) -> str:
    """The store checkout URL for a pending-payment booking; one order per booking.

    A second call (a reload, a second tab) reuses the order while its Checkout
    session is open, so one booking can never be paid through two orders.
    """
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("event_type", "order")
            .get(pk=booking.pk)
        )
        if booking.status != Booking.Status.PENDING_PAYMENT:
            raise BookingError("This booking is not waiting for a payment.")
        order = booking.order
        if order is not None and order.paid_at is not None:
            raise BookingError("This booking is paid: its confirmation is on its way.")
        event_type = booking.event_type
        url, new_order = _session_checkout(
            order=order,
            slug=f"session-{event_type.slug}",
            event_type=event_type,
            amount=booking.price_amount or event_type.price_amount,
            no_price="This session has no price yet: please contact the coach.",
            buyer=booking,
            success_url=success_url,
            return_url=return_url,
        )
        if new_order is not None:
            booking.order = new_order
            booking.save(update_fields=["order", "updated_at"])
    return url


def _session_checkout(
    *,
    order: Order | None,
    slug: str,
    event_type: EventType,
    amount: Decimal | None,
    no_price: str,
    buyer: Booking | Seat,
    success_url: str,
    return_url: str,
) -> tuple[str, Order | None]:
    """The order's Checkout while it is open, else a new one for a session product.

    Returns the URL and the new order (None when the open one is reused). Store and
    gateway errors become the booking's own, so pages show a sentence.
    """
    try:
        url = stripe_gateway.open_checkout_url(order) if order is not None else None
        if url:
            return url, None
        if amount is None:
            raise BookingError(no_price)
        product = store_services.session_product(
            slug=slug,
            title=event_type.name,
            amount=minor_units(amount),
            currency=event_type.currency,
            refund_policy=refund_policy_text(event_type),
        )
        started = store_services.start_checkout(
            product=product,
            email=buyer.email,
            user=buyer.user,
            success_url=success_url,
            cancel_url=success_url,
            return_url=return_url,
        )
    except store_services.CheckoutError as error:
        raise BookingError(str(error)) from error
    except stripe_gateway.GatewayError as error:
        raise BookingError(
            "We could not reach the payment provider, so nothing was charged. "
            "Please try again in a few minutes."
        ) from error
    return started.url, started.order


def on_order_fulfilled(order: Order) -> None:
    """The store's fulfilment hook: a paid order confirms its booking, once.

    If the hold ran out and someone else took the time (SlotTaken), or the
    booking was cancelled meanwhile, the payment is refunded after commit.
    """
    booking = Booking.objects.filter(order=order).only("pk").first()
    if booking is None:
        # A workshop seat (or a cohort's seats) paid through the same checkout.
        seats.confirm_paid_seats(order_id=order.pk)
        return
    try:
        confirmed = confirm_paid_booking(booking_id=booking.pk, payment_reference=order.number)
    except BookingError as error:
        log.info(
            "order %s paid for booking %s that cannot stand: %s", order.number, booking.pk, error
        )
        from bookings.tasks import refund_booking_payment_task

        enqueue_on_commit(refund_booking_payment_task, booking.pk)
        return
    if confirmed.user_id is None and order.user_id is not None:
        Booking.objects.filter(pk=confirmed.pk, user__isnull=True).update(user=order.user_id)


def refund_booking_payment(*, booking_id: int) -> str:
    """Refund a paid booking that lost its time or was cancelled in time. Safe twice.

    The order row is locked and re-checked, so a retry or the sweep never
    refunds twice; a late cancellation or a standing booking is never refunded.
    """
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update().select_related("event_type").get(pk=booking_id)
        )
        if booking.order_id is None:
            return "no order"
        if booking.status not in REFUNDABLE:
            return f"not refundable ({booking.status})"
        order = Order.objects.select_for_update().get(pk=booking.order_id)
        if order.paid_at is None:
            return "not paid"
        if order.refunds.exists() or order.amount_refunded > 0:
            return "already refunded"
        store_services.refund_order(order=order)
        booking.order = order
        emails.send_payment_refunded(booking)
    return "refunded"


def refund_stranded_payments(*, limit: int = 50) -> int:
    """Beat's safety net: paid, fulfilled orders whose booking lost its time."""
    ids = list(
        Booking.objects.filter(
            status__in=REFUNDABLE,
            order__paid_at__isnull=False,
            order__fulfilled_at__lte=timezone.now(),
            order__amount_refunded=0,
            order__refunds__isnull=True,
        ).values_list("pk", flat=True)[:limit]
    )
    done = 0
    for booking_id in ids:
        try:
            if refund_booking_payment(booking_id=booking_id) == "refunded":
                done += 1
        except stripe_gateway.GatewayError as error:
            log.warning("refund for booking %s failed: %s; retried later", booking_id, error)
    seat_ids = list(
        Seat.objects.filter(
            status__in=SEAT_REFUNDABLE,
            refund__isnull=True,
            order__paid_at__isnull=False,
            order__fulfilled_at__lte=timezone.now(),
        ).values_list("pk", flat=True)[:limit]
    )
    for seat_id in seat_ids:
        try:
            if refund_seat_payment(seat_id=seat_id) == "refunded":
                done += 1
        except stripe_gateway.GatewayError as error:
            log.warning("refund for seat %s failed: %s; retried later", seat_id, error)
    return done


def start_seat_payment(*, unpaid: list[Seat], success_url: str, return_url: str) -> str:
    """The store checkout for unpaid seats (one seat, or a cohort's seats): one order.

    The seats keep their places while pending payment; if the payment window runs
    out first, beat frees them and a late payment is refunded. A second call (a
    reload, the "Pay" button) reuses the order while its Checkout is open, so the
    same seats are never paid through two orders.
    """
    with transaction.atomic():
        locked = list(
            Seat.objects.select_for_update(of=("self",))
            .select_related("session__event_type", "order")
            .filter(pk__in=[seat.pk for seat in unpaid])
            .order_by("pk")
        )
        if not locked or any(s.status != Seat.Status.PENDING_PAYMENT for s in locked):
            raise BookingError("This seat is not waiting for a payment.")
        first = locked[0]
        order = first.order
        if order is not None and order.paid_at is not None:
            raise BookingError("This seat is paid: the invitation is on its way.")
        event_type = first.session.event_type
        no_price = "This workshop has no price yet: please contact the coach."
        if event_type.price_amount is None:
            raise BookingError(no_price)
        url, new_order = _session_checkout(
            order=order,
            slug=f"seat-{event_type.slug}",
            event_type=event_type,
            amount=event_type.price_amount,
            no_price=no_price,
            buyer=first,
            success_url=success_url,
            return_url=return_url,
        )
        if new_order is not None:
            Seat.objects.filter(pk__in=[seat.pk for seat in locked]).update(order=new_order)
    return url


def refund_seat_payment(*, seat_id: int) -> str:
    """Give back a paid seat's share of its order (a cohort's order pays several seats).

    The seat and the order are locked and re-checked, and the Refund is tied to the
    seat in the same transaction: a retry or the sweep never refunds a seat twice,
    and a seat that still holds its place (or was cancelled late) is never refunded.
    """
    with transaction.atomic():
        seat = Seat.objects.select_for_update().get(pk=seat_id)
        if seat.order_id is None:
            return "no order"
        if seat.status not in SEAT_REFUNDABLE:
            return f"not refundable ({seat.status})"
        if seat.refund_id is not None:
            return "already refunded"
        order = Order.objects.select_for_update().get(pk=seat.order_id)
        if order.paid_at is None:
            return "not paid"
        on_order = Seat.objects.filter(order=order)
        unrefunded = on_order.filter(refund__isnull=True).count()
        remaining = order.total - order.amount_refunded
        # The last seat takes what is left, so rounding never keeps a penny.
        share = remaining if unrefunded <= 1 else min(remaining, order.total // on_order.count())
        if share <= 0:
            return "nothing left to refund"
        seat.refund = store_services.refund_order(order=order, amount=share)
        seat.save(update_fields=["refund", "updated_at"])
        emails.send_seat_refunded(seat, amount=order.money(share))
    return "refunded"
