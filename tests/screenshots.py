"""README's screenshots: `make screenshots` writes docs/screenshots/<page>-<width>.png.

Not collected by `make test` (the name does not start with test_): it rewrites
tracked files. It loads the demo data into the test database, serves it with
Django's live server and takes the first screen of each page at a phone's and a
desktop's width, as a visitor (and the coach, for the dashboard) first sees it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.clients.test_browser import sign_in
from tests.conftest import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOLDER = ROOT / "docs" / "screenshots"
SIZES = {390: 844, 1280: 800}


def shoot(page: Any, url: str, name: str) -> list[Path]:
    FOLDER.mkdir(parents=True, exist_ok=True)
    paths = []
    for width, height in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        path = FOLDER / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=False)
        paths.append(path)
    return paths


def test_readme_screenshots(page: Any, live_server: Any, demo_data: None) -> None:
    from coaching.demo import ensure_coach
    from guides.models import Guide

    guide = Guide.objects.featured().first() or Guide.objects.listed().first()
    assert guide is not None
    shots = shoot(page, f"{live_server.url}/", "home")
    shots += shoot(page, f"{live_server.url}{guide.get_absolute_url()}", "guide")
    shots += shoot(page, f"{live_server.url}/book/discovery-call/", "booking")
    sign_in(page, live_server, ensure_coach())
    shots += shoot(page, f"{live_server.url}/admin/", "dashboard")
    assert all(path.stat().st_size > 10_000 for path in shots)
