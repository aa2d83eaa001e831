from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _receivers_raise() -> Iterator[None]:
    """A receiver's fault fails the test instead of becoming a HookFailure row."""
    from automations import receivers as automation_receivers
    from clients import receivers as client_receivers

    automation_receivers.RAISE_ERRORS = client_receivers.RAISE_ERRORS = True
    yield
    automation_receivers.RAISE_ERRORS = client_receivers.RAISE_ERRORS = False
