"""What bookings tells the apps above it (clients), which it never imports.

README's "How the parts talk" lists these.
"""

from django.dispatch import Signal

# A confirmed booking moved to a new time. Sent inside the rescheduling
# transaction with `instance` (the booking, already at its new time),
# `old_start` and `old_end` (aware datetimes).
booking_moved = Signal()

# The coach's prep brief for a call is being written. Sent with `booking`; a receiver
# returns the sections it adds, as [(title, [lines])].
prep_brief_requested = Signal()
