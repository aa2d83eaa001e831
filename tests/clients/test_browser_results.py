"""/results/ in a real browser: a client answers the testimonial form on a phone, the
coach approves it, and the results page shows it as the client allowed, at 390px and
on a desktop."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from clients import results
from clients.models import Outcome, TestimonialRequest
from tests.clients.factories import make_contact
from tests.conftest import screenshot
from tests.pagecheck import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_consents_the_coach_approves_and_the_results_page_shows_it(
    page: Any, live_server: Any, coach: Any
) -> None:
    contact = make_contact("casey@example.com", name="Casey Candidate")
    outcome = results.record_outcome(
        Outcome(
            contact=contact, kind=Outcome.Kind.OFFER, role="ML Engineer", company="DeepMind",
            level="Senior", occurred_on=date(2026, 10, 1), before_salary=80_000,
            base_salary=95_000, bonus=10_000,
        )
    )  # fmt: skip
    other = make_contact("robin@example.com", name="Robin Reed")
    shown_fully = results.record_outcome(
        Outcome(contact=other, kind=Outcome.Kind.OFFER, role="Data Scientist",
                company="Acme AI", occurred_on=date(2026, 9, 1), before_salary=60_000,
                base_salary=75_000)
    )  # fmt: skip

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(
        f"{live_server.url}/results/testimonial/{results.token_for(outcome.testimonial_request)}/"
    )
    check_page(page)
    page.get_by_label("In a few sentences").fill(
        "Three sessions turned a stalled search into two offers."
    )
    page.get_by_label("My initials only").check()
    page.get_by_role("group", name="Name the company").get_by_label("No").check()
    page.get_by_role("group", name="Show the figures").get_by_label("Yes").check()
    screenshot(page, "results-testimonial-form-390")
    page.get_by_role("button", name="Send").click()
    page.wait_for_load_state()
    assert "Thank you" in page.locator("h1").inner_text()

    results.answer_testimonial(
        request=shown_fully.testimonial_request, quote="Clear plan, real offer.",
        name_shown="full", show_company=True, show_figures=False,
    )  # fmt: skip
    for request in TestimonialRequest.objects.all():
        results.approve_testimonial(request=request)

    page.goto(f"{live_server.url}/results/")
    check_page(page)
    text = page.locator("main").inner_text()
    assert "C. C." in text and "Casey" not in text and "DeepMind" not in text
    assert "+31% total pay" in text
    assert "Robin Reed" in text and "Acme AI" in text and "+25%" not in text
    screenshot(page, "results-page-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    check_page(page)
    screenshot(page, "results-page-1280")
    assert page.js_errors == []
