"""The billing clock: real time, or the simulated provider's time when it runs.

Everything that compares a membership's dates with "now" asks here, so that
`manage.py billing_clock --days 31` moves access, renewals and emails together.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from store import stripe_gateway


def offset() -> dt.timedelta:
    if not stripe_gateway.is_simulated():
        return dt.timedelta(0)
    from members.models import SimulatedClock

    seconds = SimulatedClock.objects.filter(pk=1).values_list("offset_seconds", flat=True).first()
    return dt.timedelta(seconds=seconds or 0)


def now() -> dt.datetime:
    return timezone.now() + offset()


def from_timestamp(value: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value, tz=dt.UTC) if value else None
