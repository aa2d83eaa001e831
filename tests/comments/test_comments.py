"""Readers' comments on guides: posting, moderation, gating, emails, counts, caching."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from clients.models import TimelineEvent
from coaching import pagecache
from comments import services
from comments.models import Comment, Commenter
from guides.models import Guide

pytestmark = pytest.mark.django_db


def post(client: Client, guide: Any, body: str, parent: Comment | None = None) -> Any:
    data = {"body": body}
    if parent is not None:
        data["parent"] = str(parent.pk)
    return client.post(f"/guides/{guide.slug}/comments/", data)


def approved(user: Any) -> Any:
    Commenter.objects.update_or_create(user=user, defaults={"approved_at": "2026-01-01T00:00Z"})
    return user


def test_a_first_comment_is_held_until_the_coach_approves_it_then_later_ones_show_at_once(
    client, candidate, coach, public_guide
):
    client.force_login(candidate)
    response = post(client, public_guide, "Thanks, this helped with my loop.")
    first = Comment.objects.get()
    assert response.status_code == 302
    assert first.status == Comment.Status.PENDING
    # The author sees their own held comment; others do not.
    assert (
        "Awaiting approval" in client.get(f"/guides/{public_guide.slug}/comments/").content.decode()
    )
    assert (
        "this helped" not in Client().get(f"/guides/{public_guide.slug}/comments/").content.decode()
    )

    assert services.approve(comment=first)
    post(client, public_guide, "One more question about offers.")

    assert Comment.objects.latest("pk").status == Comment.Status.VISIBLE
    page = Client().get(f"/guides/{public_guide.slug}/comments/").content.decode()
    assert "this helped" in page and "question about offers" in page
    assert Guide.objects.get(pk=public_guide.pk).comment_count == 2


def test_the_admin_queue_lists_held_comments_and_approves_them(
    coach_client, candidate, public_guide
):
    comment = services.post_comment(guide=public_guide, author=candidate, body="Held one")
    queue = coach_client.get("/admin/comments/pendingcomment/")
    assert queue.status_code == 200 and "Held one" in queue.content.decode()

    coach_client.post(
        "/admin/comments/pendingcomment/",
        {"action": "approve", "_selected_action": [comment.pk]},
    )

    comment.refresh_from_db()
    assert comment.status == Comment.Status.VISIBLE
    assert Commenter.objects.get(user=candidate).approved_at is not None
    assert "Held one" not in coach_client.get("/admin/comments/pendingcomment/").content.decode()


def test_the_admin_hides_and_deletes_and_the_count_follows(coach_client, candidate, public_guide):
    approved(candidate)
    one = services.post_comment(guide=public_guide, author=candidate, body="One")
    two = services.post_comment(guide=public_guide, author=candidate, body="Two")
    coach_client.post("/admin/comments/comment/", {"action": "hide", "_selected_action": [one.pk]})
    assert Guide.objects.get(pk=public_guide.pk).comment_count == 1
    coach_client.post(
        "/admin/comments/comment/", {"action": "delete", "_selected_action": [two.pk]}
    )
    assert not Comment.objects.filter(pk=two.pk).exists()
    assert Guide.objects.get(pk=public_guide.pk).comment_count == 0


def test_the_coach_replies_as_the_coach_with_a_badge_and_pins_from_the_page(
    coach_client, coach, candidate, public_guide
):
    question = services.post_comment(guide=public_guide, author=approved(candidate), body="Q?")
    post(coach_client, public_guide, "Good question: start with the role.", parent=question)
    reply = Comment.objects.get(parent=question)
    assert reply.by_coach and reply.status == Comment.Status.VISIBLE

    coach_client.post(f"/comments/{question.pk}/moderate/", {"action": "pin"})

    question.refresh_from_db()
    assert question.is_pinned
    page = Client().get(f"/guides/{public_guide.slug}/comments/").content.decode()
    assert 'class="pill pill-coach">Coach<' in page and "Pinned" in page


def test_a_reader_cannot_use_the_coachs_buttons(client, candidate, public_guide):
    comment = services.post_comment(guide=public_guide, author=candidate, body="Mine")
    client.force_login(candidate)
    client.post(f"/comments/{comment.pk}/moderate/", {"action": "approve"})
    comment.refresh_from_db()
    assert comment.status == Comment.Status.PENDING


def test_a_reply_emails_the_reader_replied_to_once_with_a_one_click_unsubscribe(
    client, candidate, stranger, public_guide, django_capture_on_commit_callbacks
):
    question = services.post_comment(guide=public_guide, author=approved(candidate), body="Q?")
    client.force_login(approved(stranger))
    with django_capture_on_commit_callbacks(execute=True):
        post(client, public_guide, "Here is what worked for me.", parent=question)

    (email,) = mail.outbox
    assert email.to == ["candidate@example.com"]
    assert "Sam Stranger replied" in email.subject
    assert "Here is what worked for me." in email.body
    header = email.extra_headers["List-Unsubscribe"]
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = header.strip("<>").split("testserver", 1)[-1].split("://", 1)[-1]
    path = path[path.index("/comments/") :]

    assert Client().post(path).status_code == 200  # the mail provider's one-click POST

    assert Commenter.objects.get(user=candidate).reply_emails is False
    with django_capture_on_commit_callbacks(execute=True):
        post(client, public_guide, "And another thought.", parent=question)
    assert len(mail.outbox) == 1


def test_a_forged_unsubscribe_link_changes_nothing(client, candidate):
    token = services.unsubscribe_token(candidate.pk)
    assert client.post(f"/comments/unsubscribe/{token}x/").status_code == 400
    assert client.post(f"/comments/unsubscribe/{candidate.pk}/").status_code == 400


def test_replying_to_yourself_sends_no_email(candidate, public_guide):
    question = services.post_comment(guide=public_guide, author=approved(candidate), body="Q?")
    services.post_comment(guide=public_guide, author=candidate, body="Also", parent=question)
    assert mail.outbox == []


def test_a_gated_guides_comments_reach_only_entitled_readers(
    client, candidate, stranger, paid_guide, entitle
):
    entitle(candidate, paid_guide)
    client.force_login(approved(candidate))
    post(client, paid_guide, "The zebracorn section quoted here.")
    assert "zebracorn" in client.get(f"/guides/{paid_guide.slug}/comments/").content.decode()

    for reader in (Client(), _signed_in(stranger)):
        page = reader.get(f"/guides/{paid_guide.slug}/comments/").content.decode()
        assert "zebracorn" not in page and "for its readers" in page
    refused = _signed_in(stranger).post(f"/guides/{paid_guide.slug}/comments/", {"body": "x"})
    assert refused.status_code == 403
    assert Comment.objects.count() == 1


def test_a_reply_email_leaves_out_the_text_for_a_reader_who_lost_access(
    candidate, stranger, paid_guide, entitle, django_capture_on_commit_callbacks
):
    entitle(stranger, paid_guide)
    question = services.post_comment(guide=paid_guide, author=approved(candidate), body="Q?")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_comment(
            guide=paid_guide, author=approved(stranger), body="zebracorn!", parent=question
        )
    (email,) = mail.outbox
    assert "zebracorn" not in email.body and "zebracorn" not in email.alternatives[0].content


def test_comments_are_plain_text_escaped_and_linkified(client, candidate, public_guide):
    client.force_login(approved(candidate))
    post(client, public_guide, "<script>alert(1)</script> see https://example.org/x <b>bold</b>")
    page = client.get(f"/guides/{public_guide.slug}/comments/").content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<b>bold</b>" not in page
    assert '<a href="https://example.org/x" rel="nofollow">' in page


def test_an_empty_or_too_long_comment_gets_a_form_error(client, candidate, public_guide):
    client.force_login(candidate)
    assert post(client, public_guide, "   ").status_code == 400
    assert post(client, public_guide, "x" * 4001).status_code == 400
    assert post(client, public_guide, "ok", parent=Comment(pk=999999)).status_code == 400
    assert Comment.objects.count() == 0


def test_a_visitor_is_asked_to_sign_in_and_cannot_post(client, public_guide):
    assert (
        "Sign in</a> to join"
        in client.get(f"/guides/{public_guide.slug}/comments/").content.decode()
    )
    response = post(client, public_guide, "anonymous")
    assert response.status_code == 403 and Comment.objects.count() == 0


def test_commenting_is_throttled_per_user(client, candidate, public_guide, settings):
    client.force_login(approved(candidate))
    for n in range(10):
        assert post(client, public_guide, f"comment {n}").status_code == 302
    response = post(client, public_guide, "one too many")
    assert response.status_code == 429 and response["Retry-After"]
    assert Comment.objects.count() == 10


def test_a_comment_appears_on_the_commenters_timeline(candidate, public_guide):
    comment = services.post_comment(guide=public_guide, author=candidate, body="Timeline me")
    event = TimelineEvent.objects.get(kind=TimelineEvent.Kind.COMMENT)
    assert event.contact.email == "candidate@example.com"
    assert event.source_id == comment.pk and public_guide.title in event.title


def test_the_hub_card_and_the_cached_guide_page_show_the_new_count(
    client, candidate, public_guide, django_capture_on_commit_callbacks
):
    assert "comment" not in client.get("/guides/").content.decode().split("card-foot", 1)[1][:400]
    client.get(f"/guides/{public_guide.slug}/")  # now stored for visitors
    version = pagecache.current_version()

    comment = services.post_comment(guide=public_guide, author=candidate, body="Held")
    with django_capture_on_commit_callbacks(execute=True):
        services.approve(comment=comment)

    assert pagecache.current_version() != version
    assert "1 comment" in client.get("/guides/").content.decode()
    assert "Read the 1 comment" in client.get(f"/guides/{public_guide.slug}/").content.decode()


def _signed_in(user: Any) -> Client:
    other = Client()
    other.force_login(user)
    return other


def test_the_timeline_backfill_writes_past_comments_like_live_ones(candidate, public_guide):
    from clients import timeline

    services.post_comment(guide=public_guide, author=candidate, body="Before the CRM")
    live = TimelineEvent.objects.get(kind=TimelineEvent.Kind.COMMENT)
    TimelineEvent.objects.filter(kind=TimelineEvent.Kind.COMMENT).delete()

    timeline.backfill()

    again = TimelineEvent.objects.get(kind=TimelineEvent.Kind.COMMENT)
    assert (again.title, again.detail, again.contact_id) == (
        live.title,
        live.detail,
        live.contact_id,
    )


def test_hiding_a_comment_takes_its_replies_out_of_the_count(coach, candidate, public_guide):
    question = services.post_comment(guide=public_guide, author=approved(candidate), body="Q?")
    services.post_comment(guide=public_guide, author=coach, body="A.", parent=question)
    assert Guide.objects.get(pk=public_guide.pk).comment_count == 2

    services.hide(comment=question)

    assert Guide.objects.get(pk=public_guide.pk).comment_count == 0
    assert "A." not in Client().get(f"/guides/{public_guide.slug}/comments/").content.decode()


def test_commenting_is_throttled_per_ip_across_accounts(
    candidate, stranger, public_guide, settings
):
    settings.THROTTLE_LIMITS = {
        **settings.THROTTLE_LIMITS,
        "comment": {"ip": (2, 3600), "account": (10, 3600)},
    }
    first, second = _signed_in(approved(candidate)), _signed_in(approved(stranger))
    assert post(first, public_guide, "one").status_code == 302
    assert post(second, public_guide, "two").status_code == 302
    assert post(first, public_guide, "three").status_code == 429
    assert Comment.objects.count() == 2
