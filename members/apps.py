from typing import Any

from django.apps import AppConfig


def _tiers_for_user(user: Any, **extra: Any) -> list[str]:
    from members.services import tiers_for_user

    return tiers_for_user(user)


def _discount_percent_for(user: Any, **extra: Any) -> int:
    from members.services import discount_percent

    return discount_percent(user)


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = "Memberships"

    def ready(self) -> None:
        from guides import signals as guides_signals
        from members import events, lists
        from store import signals as store_signals

        # Lower apps ask; members answers (README, "How the parts talk").
        guides_signals.tiers_for_user.connect(_tiers_for_user, dispatch_uid="members")
        store_signals.stripe_event_types.connect(events.event_types, dispatch_uid="members")
        store_signals.stripe_event.connect(events.handle, dispatch_uid="members")
        store_signals.discount_percent_for.connect(_discount_percent_for, dispatch_uid="members")
        lists.register_segment_filter()
