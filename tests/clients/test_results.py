"""Results the coach can show: figures from a fixed set of offers (median uplift, time
from first call to offer, per quarter, by package), the testimonial asked after an
offer, and /results/ honouring each client's consent."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client

from bookings.models import Booking
from clients import results
from clients.models import Engagement, Outcome, TestimonialRequest
from coaching.models import CoachingOffer
from tests.bookings.factories import make_event_type
from tests.clients.factories import make_contact

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")

# name, first call (or None), offer date, before, base, bonus, equity, package
OFFERS = [
    ("Ana Ames", date(2026, 1, 5), date(2026, 2, 16), 80_000, 90_000, 10_000, 0, "Job search"),
    ("Ben Bell", date(2026, 2, 2), date(2026, 4, 13), 100_000, 110_000, 0, 20_000, "Job search"),
    ("Cat Cole", date(2026, 3, 2), date(2026, 4, 20), 60_000, 90_000, 0, 0, "Offer sprint"),
    ("Dev Dunn", None, date(2026, 7, 10), None, 120_000, 0, 0, "Offer sprint"),
    ("Eve Ellis", date(2026, 5, 4), date(2026, 7, 27), 120_000, 126_000, 0, 0, "Offer sprint"),
]  # fmt: skip


def first_call(coach: Any, event_type: Any, email: str, day: date) -> Booking:
    booking = Booking(
        event_type=event_type, coach=coach, status=Booking.Status.COMPLETED, email=email,
        name=email, time_zone="Europe/London",
    )  # fmt: skip
    booking.place(datetime.combine(day, time(10), tzinfo=LONDON))
    booking.save()
    return booking


@pytest.fixture
def offers(coach: Any) -> list[Outcome]:
    event_type = make_event_type(coach)
    made = []
    for name, call, on, before, base, bonus, equity, package in OFFERS:
        contact = make_contact(name=name)
        if call:
            first_call(coach, event_type, contact.email, call)
        engagement = Engagement.objects.create(contact=contact, title=package, credits_total=3)
        made.append(
            results.record_outcome(
                Outcome(
                    contact=contact, kind=Outcome.Kind.OFFER, role="ML Engineer",
                    company="DeepMind" if name < "C" else "Acme AI", occurred_on=on,
                    before_salary=before, base_salary=base, bonus=bonus, equity=equity,
                    engagement=engagement,
                )
            )
        )  # fmt: skip
    return made


def test_the_total_is_base_plus_bonus_plus_equity_and_the_uplift_is_against_the_pay_before(
    offers: list[Outcome],
) -> None:
    ana = offers[0]
    assert ana.total == 100_000 and ana.uplift_percent == 25.0
    assert offers[3].uplift_percent is None  # no pay before recorded


def test_figures_from_a_fixed_set_of_offers(offers: list[Outcome]) -> None:
    data = results.figures(Outcome.objects.all())
    assert data["count"] == 5
    assert data["quarters"] == ["2026 Q1", "2026 Q2", "2026 Q3"]
    assert data["per_quarter"] == [1, 2, 2]
    # Uplifts 25, 30, 50, 5 (Dev has no pay before): the median is 27.5 %.
    assert data["median_uplift"] == 27.5
    # Days from first call to offer 42, 70, 49, 84 (Dev had no call): median 59.5.
    assert data["median_days_to_offer"] == 59.5
    assert data["roles"] == [("ML Engineer", 5)]
    assert dict(data["companies"]) == {"DeepMind": 2, "Acme AI": 3}


def test_the_figures_filter_by_package(offers: list[Outcome]) -> None:
    data = results.figures(Outcome.objects.filter(engagement__title="Job search"))
    assert (data["count"], data["median_uplift"], data["median_days_to_offer"]) == (2, 27.5, 56)


def test_the_results_dashboard_draws_charts_and_filters_by_package(
    coach_client: Client, offers: list[Outcome]
) -> None:
    page = coach_client.get("/admin/clients/outcome/results/").content.decode()
    assert "27.5 %" in page and "60 days" in page  # 59.5 shown as whole days
    assert page.count("<svg") >= 3 and "Offers per quarter" in page
    filtered = coach_client.get("/admin/clients/outcome/results/?package=Job+search")
    assert "56 days" in filtered.content.decode()


def test_recording_an_offer_asks_the_client_for_a_testimonial_once(
    coach_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    contact = make_contact("casey@example.com", name="Casey Candidate")
    with django_capture_on_commit_callbacks(execute=True):
        coach_client.post(
            f"/admin/clients/contact/{contact.pk}/outcome/",
            {"kind": "offer", "role": "ML Engineer", "company": "DeepMind", "currency": "GBP",
             "base_salary": "95000", "before_salary": "70000", "occurred_on": "2026-11-02"},
        )  # fmt: skip
        coach_client.post(
            f"/admin/clients/contact/{contact.pk}/outcome/",
            {"kind": "interview", "role": "Staff ML", "currency": "GBP",
             "occurred_on": "2026-11-03"},
        )  # fmt: skip
    asked = [m for m in mail.outbox if m.to == ["casey@example.com"]]
    assert len(asked) == 1 and "/results/testimonial/" in asked[0].body
    outcome = Outcome.objects.get(kind="offer")
    assert outcome.total == 95_000 and outcome.testimonial_request.status == "requested"
    results.request_testimonial(outcome)  # a second ask (a retry) sends nothing more
    assert TestimonialRequest.objects.count() == 1


def answer(client: Client, outcome: Outcome, **choices: str) -> Any:
    token = results.token_for(outcome.testimonial_request)
    return client.post(f"/results/testimonial/{token}/", {"quote": "It worked.", **choices})


def test_the_testimonial_form_needs_an_explicit_choice_for_each_consent(
    client: Client, offers: list[Outcome]
) -> None:
    token = results.token_for(offers[0].testimonial_request)
    page = client.get(f"/results/testimonial/{token}/").content.decode()
    assert "checked" not in page  # nothing is chosen for the client
    assert answer(client, offers[0], name_shown="full").status_code == 400
    assert client.get("/results/testimonial/forged-token/").status_code == 404
    ok = answer(client, offers[0], name_shown="full", show_company="no", show_figures="no")
    assert ok.status_code == 200
    assert TestimonialRequest.objects.get(outcome=offers[0]).status == "answered"


def test_results_page_shows_only_approved_testimonials_as_each_client_consented(
    client: Client, offers: list[Outcome], django_capture_on_commit_callbacks: Any
) -> None:
    service = CoachingOffer.objects.create(
        title="Offer negotiation", slug="offer-negotiation", summary="s", description="d",
        price_label="£450",
    )  # fmt: skip
    ana, ben, cat = offers[0], offers[1], offers[2]
    Outcome.objects.filter(pk=ana.pk).update(service=service)
    answer(client, ana, name_shown="initials", show_company="no", show_figures="yes")
    answer(client, ben, name_shown="full", show_company="yes", show_figures="no")
    answer(client, cat, name_shown="full", show_company="yes", show_figures="yes")
    for outcome in (ana, ben):  # Cat's answer waits for the coach: not shown
        results.approve_testimonial(request=TestimonialRequest.objects.get(outcome=outcome))

    page = client.get("/results/").content.decode()
    # Ana: initials, no company, figures.
    assert "A. A." in page and "Ana Ames" not in page
    assert "+25% total pay" in page and "offer 6 weeks after the first call" in page
    # Ben: full name and company, no figures.
    assert "Ben Bell" in page and "at Acme AI" not in page and "at DeepMind" in page
    assert "+30%" not in page and "110,000" not in page and "130,000" not in page
    # Cat is not approved; DeepMind appears once (Ben's) since Ana kept her company out.
    assert "Cat Cole" not in page and page.count("DeepMind") == 1
    # Headline figures only from offers whose clients allowed figures (Ana's alone).
    assert "Offers shared with figures</dt><dd>1" in page and "25%" in page

    # Ana's quote shows on the page of the service she used.
    service_page = client.get("/coaching/offer-negotiation/").content.decode()
    assert "A. A." in service_page and "+25% total pay" in service_page

    # Taken down: gone from both pages.
    with django_capture_on_commit_callbacks(execute=True):
        results.decline_testimonial(request=TestimonialRequest.objects.get(outcome=ana))
    assert "A. A." not in client.get("/results/").content.decode()
    assert "A. A." not in client.get("/coaching/offer-negotiation/").content.decode()
