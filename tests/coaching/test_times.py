"""Times as people read them: their zone, named, on the clock their country uses."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import Context, Template

from coaching import times

WINTER = datetime(2026, 12, 7, 8, 5, tzinfo=UTC)
SUMMER = datetime(2026, 7, 7, 8, 5, tzinfo=UTC)


def test_a_new_york_reader_gets_a_twelve_hour_time_with_the_zone_named() -> None:
    assert times.local_time(WINTER, "America/New_York") == "3:05 AM EST"
    assert times.local_time(SUMMER, "America/New_York") == "4:05 AM EDT"


def test_every_us_zone_reads_twelve_hours_and_others_read_twenty_four() -> None:
    assert times.twelve_hour("America/Los_Angeles")
    assert times.twelve_hour("Pacific/Honolulu")
    assert times.twelve_hour("US/Eastern")
    assert not times.twelve_hour("America/Toronto")
    assert not times.twelve_hour("Europe/London")
    assert not times.twelve_hour("UTC")


def test_a_london_reader_gets_a_twenty_four_hour_time_with_the_zone_named() -> None:
    assert times.local_time(WINTER, "Europe/London") == "08:05 GMT"
    assert times.local_time(SUMMER, "Europe/London") == "09:05 BST"


def test_a_zone_without_a_spoken_abbreviation_is_named_in_full() -> None:
    assert times.local_time(WINTER, "Asia/Dubai") == "12:05 Asia/Dubai"


def test_a_call_reads_with_its_date_both_times_and_the_zone() -> None:
    end = WINTER.replace(minute=25)
    assert (
        times.local_span(WINTER, end, "America/New_York")
        == "Monday, December 7, 2026, 3:05 AM–3:25 AM (America/New_York)"
    )
    assert (
        times.local_span(WINTER, end, "Europe/Berlin")
        == "Monday 7 December 2026, 09:05–09:25 (Europe/Berlin)"
    )


def test_an_unknown_zone_falls_back_to_utc_instead_of_failing() -> None:
    assert times.local_time(WINTER, "Mars/Olympus") == "08:05 UTC"


def test_the_template_tags_show_the_readers_zone_not_the_sites() -> None:
    rendered = Template(
        "{% load times %}{% local_time when zone %} | {% local_datetime when zone %}"
    ).render(Context({"when": WINTER, "zone": "America/New_York"}))
    assert rendered == "3:05 AM EST | Monday, December 7, 2026, 3:05 AM (America/New_York)"
