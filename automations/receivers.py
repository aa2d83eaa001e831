"""Triggers as they happen: the other apps' signals and saves start a follow-up at once.

Each receiver only makes run rows (automations.services.on_source_changed), in a
savepoint, and never raises into the action that fired it: a failure is kept as
a HookFailure row, and beat's scan makes the same rows later anyway (the unique
key keeps them single).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

from coaching.models import HookFailure

log = logging.getLogger(__name__)
RAISE_ERRORS = False


def _runs_for(label: str, source_id: int, target: Any) -> None:
    from automations.services import on_source_changed

    try:
        with transaction.atomic():
            on_source_changed(label=label, source_id=source_id)
    except Exception as error:
        if RAISE_ERRORS:
            raise
        log.exception("automations: runs for %s %s failed", label, source_id)
        HookFailure.record(f"automations.receivers:{label}", target, error)


def on_order_fulfilled(sender: Any, order: Any, **kwargs: Any) -> None:
    """store.signals.order_fulfilled: sent once per paid order."""
    _runs_for("store.order", order.pk, order)


def on_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A credit change (its package), a booking (a no-show) or an outcome (an offer)."""
    if kwargs.get("raw"):
        return
    label = instance._meta.label_lower
    if label == "clients.creditadjustment":
        _runs_for("clients.engagement", instance.engagement_id, instance)
    elif label == "clients.engagement":
        _runs_for("clients.engagement", instance.pk, instance)
    else:
        _runs_for(label, instance.pk, instance)


def connect() -> None:
    from bookings.models import Booking
    from clients.models import CreditAdjustment, Engagement, Outcome
    from store.signals import order_fulfilled

    order_fulfilled.connect(on_order_fulfilled, weak=False, dispatch_uid="automations-order")
    for model in (CreditAdjustment, Engagement, Booking, Outcome):
        post_save.connect(
            on_saved,
            sender=model,
            weak=False,
            dispatch_uid=f"automations-{model._meta.label_lower}",
        )
