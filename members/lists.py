"""What a tier unlocks in the newsletter: its lists, and a segment of members for campaigns."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from members import clock
from members.models import Membership, MembershipSettings


def follow_access(membership: Membership, *, access: bool) -> None:
    """Join the tier's lists when access starts, leave them when it ends.

    A confirmed address joins at once (the member chose a tier that lists them);
    a new one goes through the newsletter's double opt-in like anyone else.
    """
    from newsletter import services as newsletter
    from newsletter.models import Subscriber, Subscription

    mailing_lists = list(membership.tier.newsletter_lists.all())
    if not mailing_lists:
        return
    email = membership.user.email
    subscriber = Subscriber.objects.filter(email_lower=email.lower()).first()
    if not access:
        if subscriber is not None:
            Subscription.objects.filter(
                subscriber=subscriber, mailing_list__in=mailing_lists
            ).update(status=Subscription.Status.UNSUBSCRIBED, changed_at=timezone.now())
        return
    if subscriber is not None and subscriber.status == Subscriber.Status.CONFIRMED:
        for mailing_list in mailing_lists:
            Subscription.objects.update_or_create(
                subscriber=subscriber,
                mailing_list=mailing_list,
                defaults={"status": Subscription.Status.SUBSCRIBED, "changed_at": timezone.now()},
            )
        return
    newsletter.subscribe(
        email=email,
        lists=mailing_lists,
        source=f"membership: {membership.tier.name}",
        ip=None,
        name=getattr(membership.user, "name", ""),
    )


def _members(qs: Any, value: Any) -> Any:
    memberships = Membership.objects.with_access(
        clock.now(), MembershipSettings.current().grace_days
    )
    slug = str(value).strip()
    if slug and slug.lower() not in {"any", "true", "1", "yes"}:
        memberships = memberships.filter(tier__slug=slug)
    return qs.filter(user__in=memberships.values("user"))


def register_segment_filter() -> None:
    from newsletter.segments import SegmentFilter, register_filter

    register_filter(
        SegmentFilter(
            "member_tier",
            "Members of a tier",
            "text",
            _members,
            help="A tier's slug, or 'any' for every paying member with access today.",
        )
    )
