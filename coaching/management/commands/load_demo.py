"""Load the demo data set: idempotent, so `make run` can call it on every start."""

from __future__ import annotations

import importlib
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app that has demo data has a `demo.py` with `load(command)`; order matters
# because later apps refer to earlier rows (products unlock guides, and so on).
DEMO_APPS = ["coaching", "guides", "store", "bookings", "newsletter", "clients", "members"]


class Command(BaseCommand):
    help = "Create or update the demo coach, guides and the rest of the demo data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--quiet", action="store_true", help="Do not print the coach login.")

    def handle(self, *args: Any, quiet: bool = False, **options: Any) -> None:
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app}.demo":
                    raise
                continue
            with transaction.atomic():
                summary = module.load(self)
            if summary:
                self.stdout.write(f"  {app}: {summary}")
        if not quiet:
            from coaching.demo import describe_login

            self.stdout.write(describe_login())
