"""Create or update the staff groups (coaching/roles.py); migrate does it too."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from coaching.roles import sync_roles


class Command(BaseCommand):
    help = "Create the Coach and Assistant groups and set their permissions from the code."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            counts = sync_roles()
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count} permissions")
