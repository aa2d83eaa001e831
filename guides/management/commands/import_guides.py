from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from guides.importer import import_directory


class Command(BaseCommand):
    help = "Import guides from Markdown files with YAML front matter (idempotent by slug)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "directory",
            type=Path,
            help="A folder of .md files, or one holding articles/ and index.yaml",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")

    def handle(self, *args: Any, directory: Path, dry_run: bool = False, **options: Any) -> None:
        # The corpus's layout: DIR/index.yaml arranges the guides of DIR/articles/.
        index = directory / "index.yaml"
        if (directory / "articles").is_dir():
            directory = directory / "articles"
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        report = import_directory(directory, dry_run=dry_run, index=index)
        for name, reason in report.rejected:
            self.stderr.write(f"rejected {name}: {reason}")
        prefix = "would import: " if dry_run else ""
        for line in report.arranged:
            self.stdout.write(("would " if dry_run else "") + line)
        self.stdout.write(prefix + report.summary())
        if report.rejected:
            raise CommandError(f"{len(report.rejected)} file(s) rejected; the others were imported")
