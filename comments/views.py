"""A guide's comments: read them, post one or a reply, and the coach's moderation buttons.

Never page-cached: who sees what is decided per request by the one gating rule
(a gated guide's comments only reach readers who may read it).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from coaching import throttles
from coaching.admin_site import permission_required_or_403
from comments import services
from comments.forms import CommentForm
from comments.models import Comment
from guides.access import can_view
from guides.models import Guide


def _get_guide(slug: str) -> Guide:
    return get_object_or_404(
        Guide.objects.published().only("pk", "slug", "title", "visibility", "tier"), slug=slug
    )


def _thread_url(guide: Guide, comment: Comment | None = None) -> str:
    url = reverse("comments:thread", args=[guide.slug])
    return f"{url}#comment-{comment.pk}" if comment else url


@never_cache
@require_http_methods(["GET", "POST"])
def thread(request: HttpRequest, slug: str) -> HttpResponse:
    guide = _get_guide(slug)
    may_read = can_view(request.user, guide, request.session)
    may_post = services.may_comment(request.user, guide, request.session)
    form = CommentForm(request.POST or None)
    if request.method == "POST":
        if not may_post:
            return render(
                request, "comments/thread.html", {"guide": guide, "may_read": may_read}, status=403
            )
        retry_after = throttles.check(request, "comment", account=str(request.user.pk))
        if retry_after is not None:
            return throttles.too_many(
                request, retry_after, message="That is a lot of comments. Please wait a little."
            )
        if form.is_valid():
            parent = None
            if form.cleaned_data["parent"]:
                parent = (
                    Comment.objects.visible()
                    .filter(guide=guide, pk=form.cleaned_data["parent"])
                    .first()
                )
                if parent is None:
                    form.add_error(None, "That comment can no longer be replied to.")
            if not form.errors:
                comment = services.post_comment(
                    guide=guide, author=request.user, body=form.cleaned_data["body"], parent=parent
                )
                if comment.status == Comment.Status.PENDING:
                    messages.info(
                        request, "Thanks! Your first comment is waiting for the coach's approval."
                    )
                return HttpResponseRedirect(_thread_url(guide, comment))
    comments = []
    if may_read:
        comments = list(
            Comment.objects.thread_for(guide, request.user).prefetch_related("replies__author")
        )
        for comment in comments:
            replies = [r for r in comment.replies.all() if _shows(r, request.user)]
            comment.shown_replies = replies  # type: ignore[attr-defined]
    return render(
        request,
        "comments/thread.html",
        {
            "guide": guide,
            "may_read": may_read,
            "may_post": may_post,
            "comments": comments,
            "form": form,
        },
        status=400 if request.method == "POST" else 200,
    )


def _shows(reply: Comment, user: object) -> bool:
    return reply.status == Comment.Status.VISIBLE or (
        reply.status == Comment.Status.PENDING and reply.author_id == getattr(user, "pk", None)
    )


ACTIONS = {
    "pin": lambda c: services.pin(comment=c, pinned=True),
    "unpin": lambda c: services.pin(comment=c, pinned=False),
    "approve": lambda c: services.approve(comment=c),
    "hide": lambda c: services.hide(comment=c),
    "show": lambda c: services.show(comment=c),
    "delete": lambda c: services.delete_comment(comment=c),
}


@staff_member_required
@require_POST
@permission_required_or_403("comments.change_comment")
def moderate(request: HttpRequest, pk: int) -> HttpResponse:
    """The coach's buttons under a comment on the page (the admin has the same actions)."""
    comment = get_object_or_404(Comment.objects.select_related("guide"), pk=pk)
    action = ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return HttpResponse("Unknown action.", status=400)
    action(comment)
    return HttpResponseRedirect(_thread_url(comment.guide))


@csrf_exempt  # RFC 8058 one-click: mail providers POST here with no cookie and no token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    user_id = services.read_unsubscribe_token(token)
    if user_id is None:
        return render(request, "comments/unsubscribe.html", {"invalid": True}, status=400)
    if request.method == "POST":
        services.stop_reply_emails(user_id=user_id)
        return render(request, "comments/unsubscribe.html", {"done": True})
    return render(request, "comments/unsubscribe.html", {"token": token})
