"""Times as a person reads them: in their own zone, with the zone named.

The database keeps UTC (DESIGN.md rule 4); every page, email and timeline
line that shows a time goes through here, so a reader in New York sees
"3:05 AM EST" and a reader in London sees "08:05 GMT" for the same instant.
US zones read a 12-hour clock, everywhere else a 24-hour one. Whether a zone
is American comes from the time zone database's own country table
(zone.tab), not from a list kept by hand.
"""

from __future__ import annotations

import functools
import importlib.resources
import zoneinfo
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

TWELVE_HOUR_COUNTRIES = frozenset({"US"})


def _zone_tab_text() -> str:
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / "zone.tab"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    try:  # the tzdata wheel carries the same table when the system has none
        return (importlib.resources.files("tzdata.zoneinfo") / "zone.tab").read_text("utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


@functools.cache
def _zone_countries() -> dict[str, str]:
    """IANA zone name -> ISO country code, from zone.tab (`CC coordinates Zone ...`)."""
    countries: dict[str, str] = {}
    for line in _zone_tab_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            countries[fields[2]] = fields[0]
    return countries


@functools.lru_cache(maxsize=512)
def country_of(zone_name: str) -> str:
    if zone_name.startswith("US/"):  # legacy aliases such as US/Eastern are not in zone.tab
        return "US"
    return _zone_countries().get(zone_name, "")


def twelve_hour(zone_name: str) -> bool:
    """Whether people in this zone read a 12-hour clock."""
    return country_of(zone_name) in TWELVE_HOUR_COUNTRIES


@functools.lru_cache(maxsize=512)
def _zone(zone_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def _local(moment: datetime, zone_name: str) -> datetime:
    return moment.astimezone(_zone(zone_name))


def clock(moment: datetime, zone_name: str) -> str:
    """The time of day only: "3:05 PM" in a US zone, "15:05" elsewhere."""
    local = _local(moment, zone_name)
    if twelve_hour(zone_name):
        return f"{local:%-I:%M %p}"
    return f"{local:%H:%M}"


def date_label(moment: datetime, zone_name: str, *, year: bool = True) -> str:
    """ "Monday, December 7, 2026" in a US zone, "Monday 7 December 2026" elsewhere."""
    local = _local(moment, zone_name)
    if twelve_hour(zone_name):
        return f"{local:%A, %B %-d, %Y}" if year else f"{local:%A, %B %-d}"
    return f"{local:%A %-d %B %Y}" if year else f"{local:%A %-d %B}"


def zone_label(moment: datetime, zone_name: str) -> str:
    """The zone as people say it at that moment: "EST", "BST"; else its IANA name
    (many zones only have numeric abbreviations such as "+04")."""
    abbreviation = _local(moment, zone_name).tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return zone_name


def local_time(moment: datetime, zone_name: str) -> str:
    """ "3:05 AM EST", "08:05 GMT", "12:05 Asia/Dubai": a time and its zone."""
    return f"{clock(moment, zone_name)} {zone_label(moment, zone_name)}"


def local_datetime(moment: datetime, zone_name: str, *, year: bool = True) -> str:
    """ "Monday 7 December 2026, 15:05 (Europe/London)": a date, a time and the zone."""
    return f"{date_label(moment, zone_name, year=year)}, {clock(moment, zone_name)} ({zone_name})"


def local_span(start: datetime, end: datetime, zone_name: str) -> str:
    """A call: "Monday, December 7, 2026, 3:00 PM–3:20 PM (America/New_York)"."""
    return (
        f"{date_label(start, zone_name)}, {clock(start, zone_name)}–{clock(end, zone_name)} "
        f"({zone_name})"
    )


def short_datetime(moment: datetime, zone_name: str) -> str:
    """For lists and timelines: "Mon 7 Dec 2026, 15:05 GMT", "Mon, Dec 7, 2026, 3:05 AM EST"."""
    local = _local(moment, zone_name)
    day = f"{local:%a, %b %-d, %Y}" if twelve_hour(zone_name) else f"{local:%a %-d %b %Y}"
    return f"{day}, {local_time(moment, zone_name)}"
