"""Asking the apps above through a signal: what each receiver answered."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal


def answers(signal: Signal, sender: Any, **named: Any) -> list[Any]:
    """What each receiver of `signal` returned, in the order they were connected."""
    return [response for _receiver, response in signal.send(sender=sender, **named)]
