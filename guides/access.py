"""The one gating rule (DESIGN.md rule 1): who may read a guide's full text.

Every output that shows guide text (page, search, feeds, newsletter emails,
API, downloads) asks `can_view`. Paid guides are unlocked by other apps (the
store) answering the signals of guides/signals.py, so guides never imports them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from coaching.hooks import answers
from guides.models import Guide
from guides.signals import (
    paid_guides_for_session,
    paid_guides_for_user,
    paywall_offers_for,
    tiers_for_user,
)


def session_entitled_guide_ids(session: Any) -> set[int]:
    ids: set[int] = set()
    if session is None:
        return ids
    for found in answers(paid_guides_for_session, Guide, session=session):
        ids.update(found)
    return ids


def entitled_guide_ids(user: Any) -> set[int]:
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_entitled_guide_ids", None)
    if cached is not None:
        return cached
    ids: set[int] = set()
    for found in answers(paid_guides_for_user, Guide, user=user):
        ids.update(found)
    user._entitled_guide_ids = ids
    return ids


def held_tiers(user: Any) -> set[str]:
    """The membership tiers (slugs) an account holds now, each lower tier included."""
    if user is None or not user.is_authenticated:
        return set()
    cached = getattr(user, "_held_tiers", None)
    if cached is not None:
        return cached
    slugs: set[str] = set()
    for found in answers(tiers_for_user, Guide, user=user):
        slugs.update(found)
    user._held_tiers = slugs
    return slugs


@dataclass(frozen=True)
class ReadingRights:
    """Which guides one reader may read in full: public ones, and beyond them these.

    The rule in one place: `can_view` asks it of a guide, and search passes its
    fields to the SQL that decides which full texts a query may match.
    """

    everything: bool = False  # the coach (staff)
    members: bool = False  # any signed-in reader
    entitled: frozenset[int] = frozenset()  # paid guides unlocked by a purchase
    tiers: frozenset[str] = frozenset()  # membership tiers held (slugs), lower ones included

    def can_read(self, visibility: str, guide_id: int, tier: str = "") -> bool:
        return (
            visibility == Guide.Visibility.PUBLIC
            or self.everything
            or (self.members and visibility == Guide.Visibility.MEMBERS)
            or (visibility == Guide.Visibility.TIER and tier in self.tiers)
            or guide_id in self.entitled
        )

    # `can_read` in SQL, for queries that decide in the database (search), over a
    # guide aliased `g`, with `sql_params()`. Written next to `can_read` so the two
    # change together; tests/guides/test_access.py checks they agree on every case.
    SQL = """(%(everything)s OR g.visibility = %(public)s
        OR (%(members)s AND g.visibility = %(members_only)s)
        OR (g.visibility = %(tier_only)s AND g.tier = ANY(%(tiers)s))
        OR g.id = ANY(%(entitled)s))"""

    def sql_params(self) -> dict[str, Any]:
        return {
            "everything": self.everything,
            "members": self.members,
            "entitled": sorted(self.entitled),
            "public": Guide.Visibility.PUBLIC.value,
            "members_only": Guide.Visibility.MEMBERS.value,
            "tiers": sorted(self.tiers),
            "tier_only": Guide.Visibility.TIER.value,
        }


def reading_rights(user: Any, session: Any = None) -> ReadingRights:
    """What `user` may read, plus what the browser `session` paid for as a guest."""
    # Staff read everything only with the permission to see guides (coaching/roles.py):
    # an Assistant reads paid guides as any signed-in member does.
    if (
        user is not None
        and user.is_authenticated
        and user.is_staff
        and user.has_perm("guides.view_guide")
    ):
        return ReadingRights(everything=True, members=True)
    paid_here = session_entitled_guide_ids(session)
    if user is None or not user.is_authenticated:
        return ReadingRights(entitled=frozenset(paid_here))
    return ReadingRights(
        members=True,
        entitled=frozenset(entitled_guide_ids(user) | paid_here),
        tiers=frozenset(held_tiers(user)),
    )


def can_view(user: Any, guide: Guide, session: Any = None) -> bool:
    if guide.visibility == Guide.Visibility.PUBLIC:
        return True  # without looking up the reader's purchases
    return reading_rights(user, session).can_read(guide.visibility, guide.pk, guide.tier)


def paywall_offers(guide: Guide) -> list[dict[str, str]]:
    """What the paywall of a paid guide offers (the store answers with its products)."""
    if guide.visibility != Guide.Visibility.PAID:
        return []
    offers: list[dict[str, str]] = []
    for found in answers(paywall_offers_for, Guide, guide=guide):
        offers.extend(found)
    return offers
