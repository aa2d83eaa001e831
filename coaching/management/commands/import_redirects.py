"""manage.py import_redirects FILE [--dry-run]: the old site's addresses from a CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from coaching.redirects import import_redirects, read_csv


class Command(BaseCommand):
    help = "Import redirects (old_path,new_path[,note] per row). Nothing is saved on any error."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check every row, save none.")

    def handle(self, *args: Any, file: Path, dry_run: bool = False, **options: Any) -> None:
        try:
            rows = read_csv(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        result = import_redirects(rows, dry_run=dry_run)
        for line in result.errors:
            self.stderr.write(line)
        if result.errors:
            raise CommandError(f"{len(result.errors)} row(s) refused; nothing was saved.")
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(f"{verb}: {result.created} new, {result.updated} updated.")
