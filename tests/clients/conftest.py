from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _receivers_raise() -> Iterator[None]:
    """In our own tests a fault in a receiver fails the test instead of being logged."""
    from clients import receivers

    receivers.RAISE_ERRORS = True
    yield
    receivers.RAISE_ERRORS = False
