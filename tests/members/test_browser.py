"""Done means: subscribe to a tier in the simulated checkout, read a members' guide,
cancel, and lose access when the paid period ends (the simulated clock moved past it)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from members.models import Membership
from tests.conftest import make_user, screenshot
from tests.members.conftest import SECRET
from tests.pagecheck import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Any, live_server: Any, user: Any) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def _shots(page: Any, name: str) -> None:
    check_page(page)
    screenshot(page, f"members-{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    check_page(page)
    screenshot(page, f"members-{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_reader_subscribes_reads_the_members_guide_cancels_and_loses_it_at_period_end(
    page: Any, live_server: Any, member_tier: Any, tier_guide: Any
) -> None:
    reader = make_user("reader@example.com", name="Robin Reader")
    sign_in(page, live_server, reader)

    page.goto(f"{live_server.url}{tier_guide.get_absolute_url()}")
    assert SECRET not in page.content()
    page.get_by_role("link", name="See membership plans").click()
    page.wait_for_url(re.compile(r"/pricing/"))
    _shots(page, "pricing")

    page.get_by_role("button", name="Start free trial: monthly").click()
    page.wait_for_url(re.compile(r"/account/membership/checkout/simulated/"))
    assert "Test payment" in page.content()
    _shots(page, "checkout")
    page.get_by_role("button", name="Start free trial (test)").click()
    page.wait_for_url(re.compile(r"/account/membership/\?welcome=1"))
    assert "Welcome!" in page.content() and "Free trial" in page.content()
    _shots(page, "account")

    page.goto(f"{live_server.url}{tier_guide.get_absolute_url()}")
    assert SECRET in page.content()

    page.goto(f"{live_server.url}/account/membership/")
    page.get_by_role("button", name="Cancel membership").click()
    page.wait_for_url(re.compile(r"/account/membership/$"))
    assert "Resume membership" in page.content()
    _shots(page, "ending")
    membership = Membership.objects.get(user=reader)
    assert membership.cancel_at_period_end

    # Still a member until the trial (the period) ends, then not.
    call_command("billing_clock", days=6)
    page.goto(f"{live_server.url}{tier_guide.get_absolute_url()}")
    assert SECRET in page.content()
    call_command("billing_clock", days=2)
    page.goto(f"{live_server.url}{tier_guide.get_absolute_url()}")
    assert SECRET not in page.content()
    assert "See membership plans" in page.content()
    page.goto(f"{live_server.url}/account/membership/")
    assert "Your membership has ended" in page.content()
    _shots(page, "ended")
    assert not page.js_errors
