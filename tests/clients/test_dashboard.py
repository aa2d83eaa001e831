"""The admin index is the coach's dashboard: figures, SVG charts, cached; the sidebar keeps
every app."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib import admin
from django.core import mail
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.utils import timezone

from clients import dashboard
from clients.models import Contact, Note, Task
from tests.clients.factories import book, buy_package, make_contact

pytestmark = pytest.mark.django_db


def test_the_dashboard_shows_todays_figures_and_svg_charts(
    coach_client: Client, coach: Any, candidate: Any
) -> None:
    buy_package(candidate)
    book(coach, email="lead@example.com")
    page = coach_client.get("/admin/").content.decode()
    assert "New leads this week" in page and "£450" in page  # revenue this month
    assert page.count('<svg class="cl-chart"') == 8  # six, and two for memberships
    assert "Revenue by month" in page and "Funnel" in page and "Subscribers" in page
    assert "<script" not in page.split("data-dashboard")[1].split("</main>")[0]


def test_the_dashboard_works_on_an_empty_workspace(coach_client: Client) -> None:
    page = coach_client.get("/admin/").content.decode()
    assert "No data yet" in page
    assert "No calls today." in page


def test_expensive_figures_are_cached_and_refreshed_by_beat(candidate: Any) -> None:
    from clients.tasks import refresh_dashboard

    first = dashboard.cached_figures()
    buy_package(candidate)
    assert dashboard.cached_figures()["revenue"]["this_month"] == first["revenue"]["this_month"]
    refresh_dashboard.delay()
    assert cache.get(dashboard.CACHE_KEY)["revenue"]["this_month"] == 45000


def test_the_funnel_counts_contacts_who_reached_each_stage(coach: Any, candidate: Any) -> None:
    from newsletter.models import Subscriber

    for i in range(4):
        Subscriber.objects.create(email=f"r{i}@example.com").confirm()
    book(coach, email="r0@example.com")
    book(coach, email=candidate.email, hour=11)
    buy_package(candidate)
    funnel = dashboard.funnel()
    assert funnel["values"] == [4, 2, 1]
    assert funnel["rates"][1] == "50 % of subscribers"
    assert funnel["rates"][2] == "50 % of calls"
    medians = {row["stage"]: row["days"] for row in dashboard.time_in_stage()}
    assert "New lead" in medians


def test_the_sidebar_adds_the_workspace_and_keeps_every_app(
    coach_client: Client, coach: Any
) -> None:
    page = coach_client.get("/admin/clients/contact/").content.decode()
    sidebar = page.split('id="nav-sidebar-apps"')[1].split("</nav>")[0]
    for label in ["Pipeline board", "Dashboard", "Bookings calendar"]:
        assert label in sidebar
    assert "/admin/bookings/booking/calendar/" in sidebar
    request = RequestFactory().get("/admin/")
    request.user = coach
    for app in admin.site.get_app_list(request):
        for model in app["models"]:
            assert f'href="{model["admin_url"]}"' in sidebar, model["admin_url"]


def test_due_follow_ups_are_emailed_to_the_coach_once(
    coach: Any, django_capture_on_commit_callbacks: Any
) -> None:
    contact = make_contact("follow@example.com", name="Fola")
    today = timezone.localdate()
    Task.objects.create(contact=contact, title="Send the offer checklist", due_on=today)
    Task.objects.create(contact=contact, title="Later", due_on=today.replace(year=today.year + 1))
    from clients.tasks import remind_due_tasks

    with django_capture_on_commit_callbacks(execute=True):
        assert remind_due_tasks.delay().get() == 1
        assert remind_due_tasks.delay().get() == 0
    assert len(mail.outbox) == 1
    assert "Send the offer checklist" in mail.outbox[0].body
    assert "Later" not in mail.outbox[0].body
    assert mail.outbox[0].to == [coach.email]


def test_the_prep_brief_page_and_email_carry_the_client_record(
    coach_client: Client, coach: Any, candidate: Any, django_capture_on_commit_callbacks: Any
) -> None:
    buy_package(candidate)
    contact = Contact.objects.get(user=candidate)
    Note.objects.create(contact=contact, body="Wants to move from analytics to ML")
    Task.objects.create(contact=contact, title="Review CV", due_on=timezone.localdate())
    booking = book(coach, email=candidate.email, user=candidate)
    page = coach_client.get(f"/admin/clients/contact/brief/{booking.pk}/").content.decode()
    for text in ["Land an ML role", "Three sessions", "Wants to move from analytics to ML",
                 "Review CV", "Client", ">3<"]:  # fmt: skip
        assert text in page, text
    from bookings import emails

    send_prep_brief = emails.send_prep_brief
    with django_capture_on_commit_callbacks(execute=True):
        send_prep_brief(booking)
    body = mail.outbox[-1].body
    assert "Client record" in body and "Credits left: 3" in body
    assert re.search(r"/admin/clients/contact/brief/\d+/", body)
    assert "Wants to move from analytics to ML" in body


def test_an_empty_bookings_chart_says_there_are_no_bookings_yet(coach_client: Client) -> None:
    page = coach_client.get("/admin/").content.decode()
    assert "No bookings yet" in page


def test_chart_axis_ticks_are_round_numbers() -> None:
    from clients import charts

    svg = str(charts.line_chart("Subscribers", ["Jan", "Feb", "Mar"], [5, 21, 50]))
    ticks = re.findall(r'<text class="cl-tick"[^>]*text-anchor="end">([^<]+)</text>', svg)
    assert ticks == ["0", "20", "40", "60"]
    assert charts._ticks(30) == [0, 10, 20, 30]
    assert charts._ticks(3) == [0, 1, 2, 3, 4]
