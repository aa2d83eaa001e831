"""The coach's moderation: a queue of first comments, and approve, hide, pin in bulk."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from comments import services
from comments.models import Comment, Commenter, PendingComment

Action = Callable[[ModelAdmin, HttpRequest, QuerySet[Comment]], None]


def _each(service: Callable[..., bool], name: str, verb: str) -> Action:
    """An admin action running `service(comment=...)` on each selected comment."""

    def action(modeladmin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        done = sum(1 for comment in queryset.select_related("guide") if service(comment=comment))
        messages.success(request, f"{verb} {done} comment{'s' if done != 1 else ''}.")

    action.__name__ = name
    return action


approve = admin.action(description="Approve (and trust their author)", permissions=["change"])(
    _each(services.approve, "approve", "Approved")
)
hide = admin.action(description="Hide", permissions=["change"])(_each(services.hide, "hide", "Hid"))
show = admin.action(description="Show again", permissions=["change"])(
    _each(services.show, "show", "Showed")
)
pin = admin.action(description="Pin", permissions=["change"])(_each(services.pin, "pin", "Pinned"))


# "change", not "delete": the admin's own delete is off (has_delete_permission).
@admin.action(description="Delete, with replies", permissions=["change"])
def delete(modeladmin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
    count = 0
    for comment in queryset:
        services.delete_comment(comment=comment)
        count += 1
    messages.success(request, f"Deleted {count} comment{'s' if count != 1 else ''}.")


@admin.register(Comment)
class CommentAdmin(ModelAdmin):
    list_display = (
        "short_body",
        "author",
        "guide",
        "status",
        "by_coach",
        "is_pinned",
        "created_at",
    )
    list_filter: tuple[str, ...] = ("status", "by_coach", "is_pinned")
    search_fields = ("body", "author__email", "author__name", "guide__title")
    readonly_fields = (
        "guide",
        "author",
        "parent",
        "body",
        "by_coach",
        "created_at",
        "approved_at",
        "status",
        "is_pinned",
    )
    actions = [approve, hide, show, pin, delete]
    list_select_related = ("author", "guide")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the coach replies on the page, as the coach

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # the "Delete, with replies" action instead: it recounts the guide

    @admin.display(description="Comment")
    def short_body(self, comment: Comment) -> str:
        return comment.body[:80]


@admin.register(PendingComment)
class PendingCommentAdmin(CommentAdmin):
    """The moderation queue: first comments waiting for the coach."""

    list_filter: tuple[str, ...] = ()
    actions = [approve, hide, delete]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Comment]:
        return super().get_queryset(request).filter(status=Comment.Status.PENDING)


@admin.register(Commenter)
class CommenterAdmin(ModelAdmin):
    list_display = ("user", "approved_at", "reply_emails")
    search_fields = ("user__email", "user__name")
    list_filter = ("reply_emails",)
