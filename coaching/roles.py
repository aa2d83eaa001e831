"""The staff roles: two groups, defined here and nowhere else.

- "Coach" holds every permission (a coach who is not a superuser still runs everything).
- "Assistant" keeps the calendar and the client record (contacts, notes, tasks,
  attendance), and nothing about money (orders, refunds, payments, credits, prices),
  no CSV exports, no campaigns or newsletter sends, no guide editing.

The groups are synced after every `migrate` (a post_migrate receiver in
coaching/apps.py) and by `manage.py sync_roles`; a sync makes each group hold
exactly the permissions listed, so an edit here is the whole change.

Views check the model permission of what they change or show
(coaching.admin_site.permission_required_or_403), never just `is_staff`.
"""

from __future__ import annotations

from typing import Any

COACH = "Coach"
ASSISTANT = "Assistant"

# Seeing money (order totals, revenue, credits, prices) follows the permission to see
# orders: a shared page hides its figures from whoever lacks it instead of failing.
MONEY_PERMISSION = "store.view_order"

# Exports hold every contact's, buyer's or subscriber's details in one file.
EXPORT_PERMISSION = "clients.export_contacts"

ALL = ("view", "add", "change", "delete")

# app label -> model -> actions the Assistant may take.
ASSISTANT_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "bookings": {
        "booking": ("view", "add", "change"),
        "bookingreminder": ("view",),
        "eventtype": ("view",),
        "availabilityrule": ALL,
        "dateoverride": ALL,
        "waitlistentry": ("view", "change"),
        "busycalendar": ("view",),
        "busyinterval": ("view",),
        # Workshops are calendar work: dates, the attendee list, the register, the
        # note to all attendees (a change of the session). A seat's price is the
        # event type's, which the Assistant only views.
        "groupsession": ("view", "add", "change"),
        "cohort": ("view", "add", "change"),
        "seat": ("view", "change"),
    },
    "clients": {
        "contact": ("view", "add", "change"),
        "pipeline": ("view",),
        "stage": ("view",),
        "stagechange": ("view",),
        "note": ALL,
        "task": ALL,
        # Attendance (completed, no-show) is calendar work; giving a credit back
        # (a CreditAdjustment) and engagements' credit figures are money.
        "session": ("view", "change"),
        "outcome": ("view",),
        # Publishing a client's words is the coach's decision.
        "testimonialrequest": ("view",),
        "timelineevent": ("view",),
    },
}


def assistant_codenames() -> set[tuple[str, str]]:
    """(app_label, codename) of every permission the Assistant holds."""
    return {
        (app, f"{action}_{model}")
        for app, models in ASSISTANT_PERMISSIONS.items()
        for model, actions in models.items()
        for action in actions
    }


def sees_money(user: Any) -> bool:
    return bool(user.has_perm(MONEY_PERMISSION))


def sync_roles(*, using: str = "default") -> dict[str, int]:
    """Create both groups and set their permissions; returns each group's count."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    # Every app's permissions must exist before the groups can hold them, whatever
    # order the apps' post_migrate signals ran in.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    permissions = Permission.objects.using(using).select_related("content_type")
    wanted = assistant_codenames()
    assistant = [p for p in permissions if (p.content_type.app_label, p.codename) in wanted]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in assistant}
    if missing:
        raise LookupError(f"coaching/roles.py names unknown permissions: {sorted(missing)}")
    coach_group, _ = Group.objects.using(using).get_or_create(name=COACH)
    coach_group.permissions.set(list(permissions))
    assistant_group, _ = Group.objects.using(using).get_or_create(name=ASSISTANT)
    assistant_group.permissions.set(assistant)
    return {COACH: len(permissions), ASSISTANT: len(assistant)}


def sync_roles_after_migrate(*, using: str = "default", **kwargs: Any) -> None:
    """post_migrate receiver (connected once, for the coaching app)."""
    from django.db import connections

    # `migrate coaching` alone on an empty database runs before auth has its tables.
    if "auth_group_permissions" not in connections[using].introspection.table_names():
        return
    sync_roles(using=using)
