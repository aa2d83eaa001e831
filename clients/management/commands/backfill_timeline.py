"""Make contacts for everyone the other apps know and write their past events to the timeline.

Safe to run again: contacts are keyed by email and events by (source, kind).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from clients.timeline import backfill


class Command(BaseCommand):
    help = "Link contacts by email and write every past event to the clients timeline."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-link", action="store_true", help="Only write events for existing contacts."
        )

    def handle(self, *args: Any, no_link: bool = False, **options: Any) -> None:
        counts = backfill(link_contacts=not no_link)
        self.stdout.write(
            f"{counts.get('contacts', 0)} new contacts, {counts['events']} timeline events written."
        )
