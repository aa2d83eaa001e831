"""The staff roles of coaching/roles.py: what an Assistant may still do, what is now a 403,
and the shared pages that show an Assistant everything but the money."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from clients.models import CreditAdjustment, Engagement, Note, Session
from coaching.roles import ASSISTANT, COACH, assistant_codenames
from tests.clients.factories import book, buy_package, make_contact, make_engagement
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def codenames(group: Group) -> set[tuple[str, str]]:
    return {
        (p.content_type.app_label, p.codename)
        for p in group.permissions.select_related("content_type")
    }


def a_session_that_used_a_credit() -> Session:
    contact = make_contact(name="Robin Reader")
    engagement = make_engagement(contact, total=3)
    session = Session.objects.create(contact=contact, engagement=engagement)
    assert engagement.use_credit(reason="the first call")
    Session.objects.filter(pk=session.pk).update(used_credit=True)
    session.refresh_from_db()
    return session


def give_back(browser: Client, session: Session) -> Any:
    url = reverse("admin:clients_contact_give_back", args=[session.contact_id, session.pk])
    return browser.post(url, {"reason": "the call dropped"})


def test_migrate_leaves_both_groups_in_place_with_the_permissions_the_code_names() -> None:
    coach, assistant = Group.objects.get(name=COACH), Group.objects.get(name=ASSISTANT)
    assert coach.permissions.count() == Permission.objects.count()
    assert codenames(assistant) == assistant_codenames()
    assert ("clients", "view_contact") in codenames(assistant)
    assert not {("store", "view_order"), ("clients", "export_contacts")} & codenames(assistant)


def test_sync_roles_puts_back_a_group_edited_by_hand() -> None:
    assistant = Group.objects.get(name=ASSISTANT)
    assistant.permissions.set(Permission.objects.filter(codename="view_order"))
    Group.objects.filter(name=COACH).delete()

    call_command("sync_roles", stdout=None)

    assert codenames(Group.objects.get(name=ASSISTANT)) == assistant_codenames()
    assert Group.objects.get(name=COACH).permissions.count() == Permission.objects.count()


def test_an_assistant_who_could_give_a_credit_back_now_gets_403_and_the_credit_stays_used(
    assistant: Any,
) -> None:
    session = a_session_that_used_a_credit()

    response = give_back(signed_in(assistant), session)

    assert response.status_code == 403
    session.refresh_from_db()
    assert session.used_credit is True
    assert Engagement.objects.get(sessions=session).credits_used == 1
    assert not CreditAdjustment.objects.filter(kind=CreditAdjustment.Kind.GIVE_BACK).exists()


def test_a_coach_in_the_coach_group_still_gives_a_credit_back(team_coach: Any) -> None:
    session = a_session_that_used_a_credit()

    response = give_back(signed_in(team_coach), session)

    assert response.status_code == 302
    assert Engagement.objects.get(sessions=session).credits_used == 0


@pytest.mark.parametrize("what", ["contacts", "orders", "subscribers"])
def test_an_assistant_who_could_export_now_gets_403(assistant: Any, what: str) -> None:
    make_contact("someone@example.com")

    response = signed_in(assistant).get(reverse("admin:clients_contact_export", args=[what]))

    assert response.status_code == 403


def test_an_assistant_sees_neither_export_buttons_nor_the_export_action(
    assistant: Any, team_coach: Any
) -> None:
    make_contact("someone@example.com")
    changelist = reverse("admin:clients_contact_changelist")

    mine = signed_in(assistant).get(changelist)
    theirs = signed_in(team_coach).get(changelist)

    assert mine.status_code == theirs.status_code == 200
    assert b"Export contacts" not in mine.content
    assert b"export_selected" not in mine.content
    assert b"Export contacts" in theirs.content
    assert b"export_selected" in theirs.content


def test_an_assistant_still_keeps_the_client_record(assistant: Any) -> None:
    contact = make_contact("someone@example.com")
    browser = signed_in(assistant)

    note = browser.post(
        reverse("admin:clients_contact_note", args=[contact.pk]), {"body": "Wants a mock loop."}
    )
    task = browser.post(
        reverse("admin:clients_contact_task", args=[contact.pk]),
        {"title": "Send the mock loop", "due_on": "2030-01-01"},
    )

    assert (note.status_code, task.status_code) == (302, 302)
    assert Note.objects.get(contact=contact).author == assistant
    assert contact.tasks.get().title == "Send the mock loop"
    assert browser.get(reverse("admin:clients_contact_board")).status_code == 200
    assert browser.get(reverse("admin:bookings_booking_calendar")).status_code == 200


def test_an_assistant_sees_the_client_workspace_without_money(
    assistant: Any, team_coach: Any
) -> None:
    buyer = make_user("buyer@example.com", name="Bea Buyer")
    order = buy_package(buyer, credits=3)
    contact = make_contact("buyer@example.com")
    page = reverse("admin:clients_contact_change", args=[contact.pk])

    mine = signed_in(assistant).get(page)
    theirs = signed_in(team_coach).get(page)

    assert mine.status_code == theirs.status_code == 200
    for figure in ("Credits left", order.total_display, "Give back", "Credit ledger"):
        assert figure not in mine.content.decode(), figure
    assert "Bea Buyer" in mine.content.decode()
    assert "Credits left" in theirs.content.decode()
    assert order.total_display in theirs.content.decode()


def test_an_assistant_s_dashboard_leaves_out_revenue(assistant: Any, team_coach: Any) -> None:
    mine = signed_in(assistant).get(reverse("admin:index"))
    theirs = signed_in(team_coach).get(reverse("admin:index"))

    assert mine.status_code == theirs.status_code == 200
    assert b"Revenue" not in mine.content
    assert b"Revenue this month" in theirs.content


def test_an_assistant_can_neither_refund_nor_open_a_campaign(assistant: Any) -> None:
    from newsletter.models import Campaign
    from tests.newsletter.factories import MailingListFactory

    order = buy_package(make_user("buyer@example.com"), credits=1)
    campaign = Campaign.objects.create(
        subject="This week", body="Hello.", mailing_list=MailingListFactory()
    )
    browser = signed_in(assistant)

    refund = browser.post(reverse("admin:store_order_refund", args=[order.pk]), {"amount": "1"})
    send = browser.post(reverse("admin:newsletter_campaign_send", args=[campaign.pk]))

    assert (refund.status_code, send.status_code) == (403, 403)
    order.refresh_from_db()
    campaign.refresh_from_db()
    assert order.amount_refunded == 0
    assert campaign.status == Campaign.Status.DRAFT


def test_an_assistant_sees_event_types_and_bookings_without_prices_or_payments(
    assistant: Any, team_coach: Any, coach: Any
) -> None:
    from decimal import Decimal

    from tests.bookings.factories import make_event_type

    event_type = make_event_type(coach, price_amount=Decimal("95.00"))
    booking = book(coach, email="someone@example.com")
    pages = [
        reverse("admin:bookings_eventtype_changelist"),
        reverse("admin:bookings_eventtype_change", args=[event_type.pk]),
        reverse("admin:bookings_booking_change", args=[booking.pk]),
    ]

    for page in pages:
        mine = signed_in(assistant).get(page)
        theirs = signed_in(team_coach).get(page)
        assert mine.status_code == theirs.status_code == 200, page
        assert "price_amount" not in mine.content.decode(), page
        assert "Credit grant" not in mine.content.decode(), page
    assert "price_amount" in signed_in(team_coach).get(pages[1]).content.decode()
    assert "Credit grant" in signed_in(team_coach).get(pages[2]).content.decode()


def test_an_assistant_cannot_import_redirects(assistant: Any, team_coach: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from coaching.models import Redirect

    page = reverse("admin:coaching_redirect_import")
    browser = signed_in(assistant)

    shown = browser.get(page)
    upload = SimpleUploadedFile("r.csv", b"/papers.html,/guides/\n", content_type="text/csv")
    posted = browser.post(page, {"file": upload, "dry_run": ""})

    assert (shown.status_code, posted.status_code) == (403, 403)
    assert not Redirect.objects.exists()
    assert signed_in(team_coach).get(page).status_code == 200


def test_an_assistant_cannot_pin_hide_approve_or_delete_comments(
    assistant: Any, team_coach: Any, candidate: Any
) -> None:
    from comments import services
    from comments.models import Comment
    from tests.guides.factories import GuideFactory

    comment = services.post_comment(guide=GuideFactory(), author=candidate, body="First words")
    page = reverse("comments:moderate", args=[comment.pk])
    browser = signed_in(assistant)

    answers = [
        browser.post(page, {"action": action}).status_code
        for action in ("approve", "pin", "hide", "delete")
    ]

    assert answers == [403] * 4
    comment.refresh_from_db()
    assert (comment.status, comment.is_pinned) == (Comment.Status.PENDING, False)
    assert signed_in(team_coach).post(page, {"action": "approve"}).status_code == 302
    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
