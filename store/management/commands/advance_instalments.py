"""Simulated payments only: bring each plan's next unpaid instalment due now and collect
it, so a fresh machine can try a whole payment plan (and a missed instalment) at once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from store import stripe_gateway
from store.instalments import collect_due_instalments
from store.plans import Instalment


class Command(BaseCommand):
    help = "Simulated payments: make every plan's next instalment due now and collect it."

    def handle(self, *args: Any, **options: Any) -> None:
        if not stripe_gateway.is_simulated():
            # With real Stripe it would charge real cards ahead of their schedule.
            raise CommandError("Only with the simulated provider (no STRIPE_SECRET_KEY).")
        advanced = 0
        next_due = (
            Instalment.objects.filter(paid_at__isnull=True, failed_at__isnull=True)
            .order_by("plan_id", "number")
            .distinct("plan_id")
        )
        for instalment in next_due:
            Instalment.objects.filter(pk=instalment.pk).update(due_at=timezone.now())
            advanced += 1
        collected = collect_due_instalments()
        self.stdout.write(f"{advanced} instalments brought forward, {collected} collected.")
