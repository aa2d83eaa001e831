from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from newsletter.importers import SOURCES, import_rows, read_records
from newsletter.models import MailingList


class Command(BaseCommand):
    help = (
        "Import subscribers from another tool's CSV export, keeping their consent dates and "
        "suppressing those who left or bounced. Sends nothing; safe to run again."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="The export's CSV file")
        parser.add_argument("--from", dest="source", required=True, choices=sorted(SOURCES))
        parser.add_argument("--list", dest="list_slug", help="Mailing list slug (default list)")
        parser.add_argument("--dry-run", action="store_true", help="Report counts, write nothing.")

    def handle(
        self,
        *args: Any,
        file: Path,
        source: str,
        list_slug: str | None = None,
        dry_run: bool = False,
        **options: Any,
    ) -> None:
        if not file.is_file():
            raise CommandError(f"{file} is not a file")
        mailing_list = self._mailing_list(list_slug)
        try:
            report = import_rows(
                read_records(file, source), mailing_list=mailing_list, dry_run=dry_run
            )
        except UnicodeDecodeError as error:
            raise CommandError(f"{file} is not UTF-8 text: {error}") from None
        for line, reason in report.errors:
            self.stderr.write(f"row {line}: {reason}")
        prefix = "would import: " if dry_run else ""
        self.stdout.write(f"{prefix}{report.summary()} (list {mailing_list.slug})")

    def _mailing_list(self, slug: str | None) -> MailingList:
        if slug:
            found = MailingList.objects.filter(slug=slug).first()
            if found is None:
                known = ", ".join(MailingList.objects.values_list("slug", flat=True)) or "none"
                raise CommandError(f"no mailing list {slug!r} (lists: {known})")
            return found
        default = MailingList.objects.filter(is_default=True).first()
        if default is None:
            raise CommandError("no default mailing list: name one with --list")
        return default
