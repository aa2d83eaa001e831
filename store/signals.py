"""What the store tells the apps above it (bookings), which it never imports.

README's "How the parts talk" lists who listens.
"""

from django.dispatch import Signal

# An order was paid and its access granted. Sent once per order with `order`, the row
# locked, inside fulfilment's transaction: what a receiver does commits (or not) with
# the fulfilment itself, and an error in it fails the fulfilment (to be retried).
order_fulfilled = Signal()

# Stripe events the store does not handle itself (subscriptions, their invoices).
# `stripe_event_types` is asked when an event arrives: a receiver returns the event
# types it handles, so they are recorded for processing rather than ignored.
# `stripe_event` is sent from the Celery task with `event` (the whole payload), inside
# the event's claim: a receiver that handles its type returns a short result; raising
# leaves the event pending for the sweep to retry.
stripe_event_types = Signal()
stripe_event = Signal()

# The percentage off a product an account gets (a membership's perk). Sent with
# `user` when a checkout starts; a receiver returns a whole percentage.
discount_percent_for = Signal()
