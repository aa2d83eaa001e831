from __future__ import annotations

from tests.guides.conftest import entitle, paid_guide, public_guide  # noqa: F401 - shared fixtures
