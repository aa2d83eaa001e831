"""Done means: a person downloads their data from the portal as a ZIP, and the privacy
page reads well on a phone."""

from __future__ import annotations

import json
import zipfile
from typing import Any

import pytest

from tests.clients.factories import buy_package
from tests.clients.test_browser import sign_in
from tests.conftest import screenshot
from tests.pagecheck import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_downloads_their_data_from_the_portal_as_a_zip(
    page: Any, live_server: Any, candidate: Any, tmp_path: Any
) -> None:
    order = buy_package(candidate)
    sign_in(page, live_server, candidate)
    page.goto(f"{live_server.url}/portal/")
    page.get_by_role("link", name="Download or erase your data").click()
    check_page(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data").click()
    saved = tmp_path / "export.zip"
    download_info.value.save_as(saved)
    archive = zipfile.ZipFile(saved)
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == candidate.email
    assert [o["number"] for o in data["orders"]] == [order.number]
    assert f"invoices/invoice-{order.number}.pdf" in archive.namelist()
    assert page.js_errors == []


def test_the_privacy_page_reads_well_on_a_phone(page: Any, live_server: Any, db: None) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/")
    page.locator("footer").get_by_role("link", name="Privacy").click()
    page.get_by_role("heading", name="What we keep, why, and for how long").wait_for()
    assert page.locator("[data-retention] dt").count() >= 7
    check_page(page)
    screenshot(page, "privacy-390")
    assert page.js_errors == []
