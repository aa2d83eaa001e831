"""Campaign reports: delivered, bounced, complained, unsubscribed, opens and clicks per link,
with machine opens and clicks counted apart and left out of the rates.

Machines read mail too. Apple's Mail Privacy Protection fetches every image of
a message through its proxies whether or not anyone reads it; corporate link
scanners (Microsoft's Safe Links, Mimecast, Proofpoint, Barracuda...) follow
every link of a message seconds after it arrives. Counting them makes every
campaign look read. An event is a machine's when any of these holds:

- its user agent names a proxy or a scanner (`MACHINE_AGENTS`), or is Apple's
  proxy's bare "Mozilla/5.0";
- its address is in a proxy's published range (`MACHINE_NETWORKS`, Apple's 17/8);
- it came within `MACHINE_SECONDS` of the message leaving (no one reads and
  clicks that fast);
- it is a click of a burst: every link of the campaign (two or more) within
  `BURST_SECONDS`, or three different links within `RAPID_SECONDS`.

A delivery with a human click counts as opened by a human even without a
pixel (images off). `classify` is a pure function over an event log so the
rules are tested on a fixed log (tests/newsletter/test_reports.py).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Count, Q

from newsletter.models import Campaign, Click, Delivery, Feedback, Link, Open

MACHINE_SECONDS = 10
BURST_SECONDS = 10
RAPID_SECONDS = 2
APPLE_PROXY_AGENT = "Mozilla/5.0"
MACHINE_AGENTS = (
    "bot",
    "crawler",
    "spider",
    "scanner",
    "preview",
    "yahoomailproxy",
    "barracuda",
    "mimecast",
    "proofpoint",
    "safelinks",
    "symantec",
    "trend micro",
    "forcepoint",
    "zscaler",
    "headlesschrome",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "curl/",
    "wget/",
    "okhttp",
)
MACHINE_NETWORKS = ("17.0.0.0/8",)  # Apple's own block, where its privacy proxies fetch from


@dataclass(frozen=True)
class Event:
    """One open or click as recorded: what the rules look at."""

    id: int
    kind: str  # "open" or "click"
    delivery_id: int
    at: dt.datetime
    user_agent: str = ""
    ip: str | None = None
    link_id: int | None = None


@cache
def _networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(net) for net in MACHINE_NETWORKS)


def machine_signature(user_agent: str, ip: str | None) -> bool:
    """The agent or address alone says machine (used at record time too)."""
    agent = (user_agent or "").strip()
    if agent == APPLE_PROXY_AGENT:
        return True
    lowered = agent.lower()
    if any(word in lowered for word in MACHINE_AGENTS):
        return True
    if ip:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in _networks())
    return False


def classify(
    events: Iterable[Event], sent_at: dict[int, dt.datetime | None], link_count: int
) -> set[tuple[str, int]]:
    """The machine events among `events`, as (kind, id): opens and clicks are two tables."""
    events = list(events)
    machine: set[tuple[str, int]] = set()
    for event in events:
        sent = sent_at.get(event.delivery_id)
        too_fast = sent is not None and (event.at - sent).total_seconds() < MACHINE_SECONDS
        if too_fast or machine_signature(event.user_agent, event.ip):
            machine.add((event.kind, event.id))
    clicks: dict[int, list[Event]] = defaultdict(list)
    for event in events:
        if event.kind == "click":
            clicks[event.delivery_id].append(event)
    for own in clicks.values():
        machine.update(("click", event.id) for event in _burst(own, link_count))
    return machine


def is_machine(machine: set[tuple[str, int]], event: Event) -> bool:
    return (event.kind, event.id) in machine


def _burst(clicks: list[Event], link_count: int) -> list[Event]:
    """Clicks of one delivery that a scanner made: all links at once, or several in a blink."""
    clicks = sorted(clicks, key=lambda e: e.at)
    found: list[Event] = []
    for i, first in enumerate(clicks):
        window = [e for e in clicks[i:] if (e.at - first.at).total_seconds() <= BURST_SECONDS]
        links = {e.link_id for e in window}
        rapid = {e.link_id for e in window if (e.at - first.at).total_seconds() <= RAPID_SECONDS}
        if (link_count >= 2 and len(links) >= link_count) or len(rapid) >= 3:
            found.extend(window)
    return found


# --- One campaign's report --------------------------------------------------------------


@dataclass
class LinkLine:
    url: str
    clicks: int = 0
    people: int = 0
    machine_clicks: int = 0


@dataclass
class VariantLine:
    variant: str
    subject: str
    delivered: int = 0
    clickers: int = 0

    @property
    def click_rate(self) -> float:
        return round(100 * self.clickers / self.delivered, 1) if self.delivered else 0.0


@dataclass
class Report:
    recipients: int = 0
    sent: int = 0
    unconfirmed: int = 0
    bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0
    openers: int = 0
    machine_openers: int = 0
    open_events: int = 0
    machine_open_events: int = 0
    clickers: int = 0
    click_events: int = 0
    machine_click_events: int = 0
    links: list[LinkLine] = field(default_factory=list)
    variants: list[VariantLine] = field(default_factory=list)
    opens_by_hour: list[int] = field(default_factory=list)
    machine_opens_by_hour: list[int] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return max(0, self.sent - self.bounced)

    def rate(self, count: int) -> float:
        return round(100 * count / self.delivered, 1) if self.delivered else 0.0

    @property
    def open_rate(self) -> float:
        return self.rate(self.openers)

    @property
    def click_rate(self) -> float:
        return self.rate(self.clickers)

    @property
    def bounce_rate(self) -> float:
        return round(100 * self.bounced / self.sent, 1) if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.rate(self.complained)

    @property
    def unsubscribe_rate(self) -> float:
        return self.rate(self.unsubscribed)


def events_of(campaign_id: int) -> list[Event]:
    opens = Open.objects.filter(delivery__campaign_id=campaign_id).values_list(
        "pk", "delivery_id", "opened_at", "user_agent", "ip"
    )
    clicks = Click.objects.filter(delivery__campaign_id=campaign_id).values_list(
        "pk", "delivery_id", "clicked_at", "user_agent", "ip", "link_id"
    )
    return [Event(pk, "open", d, at, ua, ip) for pk, d, at, ua, ip in opens] + [
        Event(pk, "click", d, at, ua, ip, link) for pk, d, at, ua, ip, link in clicks
    ]


def sent_times(campaign_id: int) -> dict[int, dt.datetime | None]:
    return dict(
        Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.SENT).values_list(
            "pk", "sent_at"
        )
    )


def human_clickers(campaign_id: int) -> dict[int, bool]:
    """Delivery id -> True for every delivery a person (not a scanner) clicked in."""
    events = [e for e in events_of(campaign_id) if e.kind == "click"]
    links = Link.objects.filter(campaign_id=campaign_id).count()
    machine = classify(events, sent_times(campaign_id), links)
    return {e.delivery_id: True for e in events if not is_machine(machine, e)}


def campaign_report(campaign: Campaign, *, hours: int = 48) -> Report:
    report = Report()
    ledger = Delivery.objects.filter(campaign=campaign).aggregate(
        recipients=Count("pk"),
        sent=Count("pk", filter=Q(status=Delivery.Status.SENT)),
        unconfirmed=Count("pk", filter=Q(status=Delivery.Status.SENT, accepted_at__isnull=True)),
    )
    report.recipients, report.sent = ledger["recipients"], ledger["sent"]
    report.unconfirmed = ledger["unconfirmed"] if campaign.status == Campaign.Status.SENT else 0
    feedback = dict(
        Feedback.objects.filter(delivery__campaign=campaign)
        .values_list("kind")
        .annotate(n=Count("pk"))
        .values_list("kind", "n")
    )
    report.bounced = feedback.get(Feedback.Kind.BOUNCED, 0)
    report.complained = feedback.get(Feedback.Kind.COMPLAINED, 0)
    report.unsubscribed = feedback.get(Feedback.Kind.UNSUBSCRIBED, 0)

    events = events_of(campaign.pk)
    sent = sent_times(campaign.pk)
    links = {
        pk: LinkLine(url)
        for pk, url in Link.objects.filter(campaign=campaign).values_list("pk", "url")
    }
    machine = classify(events, sent, len(links))
    human_open: set[int] = set()
    machine_open: set[int] = set()
    human_click: set[int] = set()
    clickers_per_link: dict[int, set[int]] = defaultdict(set)
    start = campaign.started_at
    report.opens_by_hour = [0] * hours
    report.machine_opens_by_hour = [0] * hours
    for event in events:
        robot = is_machine(machine, event)
        if event.kind == "open":
            report.open_events += 1
            report.machine_open_events += robot
            (machine_open if robot else human_open).add(event.delivery_id)
            if start is not None:
                hour = int((event.at - start).total_seconds() // 3600)
                if 0 <= hour < hours:
                    series = report.machine_opens_by_hour if robot else report.opens_by_hour
                    series[hour] += 1
            continue
        report.click_events += 1
        line = links.get(event.link_id or 0)
        if robot:
            report.machine_click_events += 1
            if line:
                line.machine_clicks += 1
            continue
        human_click.add(event.delivery_id)
        if line and event.link_id is not None:
            line.clicks += 1
            clickers_per_link[event.link_id].add(event.delivery_id)
    for link_id, people in clickers_per_link.items():
        links[link_id].people = len(people)
    # A person who clicked opened it, pixel or not.
    human_open |= human_click
    report.openers = len(human_open)
    report.machine_openers = len(machine_open - human_open)
    report.clickers = len(human_click)
    report.links = sorted(links.values(), key=lambda line: (-line.clicks, line.url))
    report.variants = _variants(campaign, human_click)
    return report


def _variants(campaign: Campaign, human_click: set[int]) -> list[VariantLine]:
    if not campaign.subject_b:
        return []
    lines = {
        "a": VariantLine("a", campaign.subject),
        "b": VariantLine("b", campaign.subject_b),
    }
    rows = Delivery.objects.filter(
        campaign=campaign, status=Delivery.Status.SENT, variant__in=["a", "b"]
    ).values_list("pk", "variant")
    for pk, variant in rows:
        lines[variant].delivered += 1
        lines[variant].clickers += pk in human_click
    return list(lines.values())
