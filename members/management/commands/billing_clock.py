"""Move the simulated provider's clock: renewals, trials ending, failed payments and
cancellations due by then happen, and reach the app as webhook events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from members import clock, simulator
from store.stripe_gateway import GatewayError


class Command(BaseCommand):
    help = "Advance the simulated billing clock (only without a Stripe key)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=0)
        parser.add_argument("--hours", type=int, default=0)

    def handle(self, *args: Any, days: int, hours: int, **options: Any) -> None:
        if days < 0 or hours < 0:
            raise CommandError("The clock only moves forward.")
        try:
            moved = simulator.advance(dt.timedelta(days=days, hours=hours))
        except GatewayError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Simulated time is now {clock.now():%Y-%m-%d %H:%M} UTC; "
            f"{moved} subscription change{'s' if moved != 1 else ''}."
        )
