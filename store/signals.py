"""What the store tells the apps above it (bookings), which it never imports.

README's "How the parts talk" lists who listens.
"""

from django.dispatch import Signal

# An order was paid and its access granted. Sent once per order with `order`, the row
# locked, inside fulfilment's transaction: what a receiver does commits (or not) with
# the fulfilment itself, and an error in it fails the fulfilment (to be retried).
order_fulfilled = Signal()
