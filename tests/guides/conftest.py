from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.guides.factories import GuideFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def public_guide(db: None) -> Any:
    return GuideFactory(title="Public guide about careers", slug="public-guide")


@pytest.fixture
def members_guide(db: None) -> Any:
    return GuideFactory(title="Members guide", slug="members-guide", visibility="members")


@pytest.fixture
def paid_guide(db: None) -> Any:
    return GuideFactory(title="Paid negotiation guide", slug="paid-guide", visibility="paid")


@pytest.fixture
def entitle() -> Iterator[Any]:
    """Grant paid guides to users the way the store does, answering guides' signal."""
    from guides.signals import paid_guides_for_user

    grants: dict[int, set[int]] = {}

    def source(user: Any, **extra: Any) -> set[int]:
        return grants.get(user.pk, set())

    paid_guides_for_user.connect(source, dispatch_uid="test-entitle")

    def grant(user: Any, guide: Any) -> None:
        grants.setdefault(user.pk, set()).add(guide.pk)
        user.__dict__.pop("_entitled_guide_ids", None)

    yield grant
    paid_guides_for_user.disconnect(dispatch_uid="test-entitle")


@pytest.fixture
def corpus_dir() -> Path:
    """The coach's corpus; skipped with a reason when absent, unless CI requires it."""
    path = Path(os.environ.get("CORPUS_DIR", ROOT.parent / "shared" / "content"))
    if not (path / "articles").is_dir():
        message = f"content corpus not found at {path} (set CORPUS_DIR)"
        if os.environ.get("CORPUS_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path
