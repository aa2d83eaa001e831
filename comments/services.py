"""Comment workflows: posting, moderating, and telling a reader about a reply."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from coaching.emails import queue_email
from coaching.pagecache import bump_version
from comments.models import Comment, Commenter
from guides.access import can_view
from guides.models import Guide


def may_comment(user: Any, guide: Guide, session: Any = None) -> bool:
    """Signed-in readers who may read the whole guide (the one gating rule decides)."""
    return bool(user is not None and user.is_authenticated and can_view(user, guide, session))


def commenter_for(user: Any) -> Commenter:
    commenter, _ = Commenter.objects.get_or_create(user=user)
    return commenter


@transaction.atomic
def post_comment(*, guide: Guide, author: Any, body: str, parent: Comment | None = None) -> Comment:
    """Shown at once for the coach and for approved commenters; held for approval otherwise."""
    if parent is not None and parent.parent_id is not None:
        parent = parent.parent  # a reply to a reply joins the same thread
    trusted = author.is_staff or commenter_for(author).approved_at is not None
    comment = Comment.objects.create(
        guide=guide,
        author=author,
        parent=parent,
        body=body.strip(),
        by_coach=author.is_staff,
        status=Comment.Status.VISIBLE if trusted else Comment.Status.PENDING,
    )
    if comment.status == Comment.Status.VISIBLE:
        _shown(comment)
    return comment


@transaction.atomic
def approve(*, comment: Comment) -> bool:
    """Approving a first comment trusts its author: their later comments show at once."""
    if not comment.approve():
        return False
    commenter_for(comment.author).approve()
    _shown(comment)
    return True


@transaction.atomic
def hide(*, comment: Comment) -> bool:
    changed = comment.hide()
    if changed:
        _recount(comment.guide_id)
    return changed


@transaction.atomic
def show(*, comment: Comment) -> bool:
    changed = comment.show()
    if changed:
        _recount(comment.guide_id)
    return changed


@transaction.atomic
def pin(*, comment: Comment, pinned: bool = True) -> bool:
    changed = comment.set_pinned(pinned)
    if changed:
        transaction.on_commit(bump_version)
    return changed


@transaction.atomic
def delete_comment(*, comment: Comment) -> None:
    """Gone for good, with its replies."""
    guide_id = comment.guide_id
    comment.delete()
    _recount(guide_id)


def _shown(comment: Comment) -> None:
    _recount(comment.guide_id)
    notify_reply(comment=comment)


def _recount(guide_id: int) -> None:
    """The hub's cards show the count, and cached pages carry it: they go stale with it."""
    # A reply under a hidden comment is not on the page either.
    count = (
        Comment.objects.visible()
        .filter(guide_id=guide_id)
        .filter(Q(parent__isnull=True) | Q(parent__status=Comment.Status.VISIBLE))
        .count()
    )
    Guide.objects.filter(pk=guide_id).update(comment_count=count)
    transaction.on_commit(bump_version)


# --- Reply emails ----------------------------------------------------------------------


def notify_reply(*, comment: Comment) -> None:
    """Tell the author of the comment replied to, once, if they want such emails.

    The reply's words go into the email only while that reader may still read the
    guide: a refunded buyer is told there is a reply, not what it quotes.
    """
    if comment.parent_id is None or comment.status != Comment.Status.VISIBLE:
        return
    parent = comment.parent
    assert parent is not None
    recipient = parent.author
    if recipient.pk == comment.author_id or not recipient.email or not recipient.is_active:
        return
    if not commenter_for(recipient).reply_emails:
        return
    guide = comment.guide
    unsubscribe_url = settings.SITE_URL + reverse(
        "comments:unsubscribe", args=[unsubscribe_token(recipient.pk)]
    )
    queue_email(
        key=f"comments:reply:{comment.pk}",
        to=recipient.email,
        template="comments-reply",
        context={
            "guide": guide,
            "reply": comment,
            "replier": display_name(comment.author, coach=comment.by_coach),
            "show_text": can_view(recipient, guide),
            "thread_url": settings.SITE_URL
            + reverse("comments:thread", args=[guide.slug])
            + f"#comment-{comment.pk}",
            "unsubscribe_url": unsubscribe_url,
        },
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )


def display_name(user: Any, *, coach: bool = False) -> str:
    """A name for the page, never the address."""
    if coach:
        return user.name or "The coach"
    return user.name or "A reader"


@cache
def _signer() -> signing.Signer:
    return signing.Signer(salt="comments.unsubscribe", sep=".")


def unsubscribe_token(user_id: int) -> str:
    """For the one-click link in reply emails; does not expire."""
    return _signer().sign(str(user_id))


def read_unsubscribe_token(token: str) -> int | None:
    try:
        return int(_signer().unsign(token))
    except (signing.BadSignature, ValueError):
        return None


def stop_reply_emails(*, user_id: int) -> bool:
    commenter, _ = Commenter.objects.get_or_create(user_id=user_id)
    return commenter.set_reply_emails(False)
