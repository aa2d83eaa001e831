"""Import guides from Markdown files with YAML front matter, idempotent by slug.

The format is the one of the content corpus (its README lists the fields). A file
whose front matter is wrong is rejected with the file and the field named, and
nothing of it is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from guides.models import Category, Guide
from guides.structure import BadIndex, apply_index, place_primary

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ACCESS = {
    "free": Guide.Visibility.PUBLIC,
    "public": Guide.Visibility.PUBLIC,
    "members": Guide.Visibility.MEMBERS,
    "paid": Guide.Visibility.PAID,
}
REQUIRED = ("title", "slug", "category", "summary", "read_time_minutes", "kind")


class Rejected(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # What index.yaml changed in sections, placements, tags and video drafts.
    arranged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, rejected {len(self.rejected)}, "
            f"index changes {len(self.arranged)}"
        )


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        raise Rejected("front matter", "the file does not start with a '---' block")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise Rejected("front matter", "the '---' block is not closed")
    try:
        meta = yaml.safe_load(parts[0].lstrip("-\n"))
    except yaml.YAMLError as error:
        raise Rejected("front matter", f"not valid YAML ({error.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise Rejected("front matter", "must be a mapping of fields")
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return meta, body.strip() + "\n"


def _text(meta: dict[str, Any], name: str, max_length: int) -> str:
    value = meta.get(name)
    if not isinstance(value, str) or not value.strip():
        raise Rejected(name, "is required and must be text")
    if len(value) > max_length:
        raise Rejected(name, f"is longer than {max_length} characters")
    return value.strip()


def validate(meta: dict[str, Any], path: Path) -> dict[str, Any]:
    """Turn front matter into Guide fields, or raise Rejected naming the field."""
    for name in REQUIRED:
        if name not in meta:
            raise Rejected(name, "is missing")
    slug = _text(meta, "slug", 200)
    if not SLUG.match(slug):
        raise Rejected("slug", f"{slug!r} must be lowercase words joined by hyphens")
    if slug != path.stem:
        raise Rejected("slug", f"{slug!r} must equal the file name {path.stem!r}")
    read_time = meta["read_time_minutes"]
    if isinstance(read_time, bool) or not isinstance(read_time, int) or read_time < 1:
        raise Rejected("read_time_minutes", "must be a whole number of minutes, at least 1")
    kind = meta["kind"]
    if kind not in Guide.Kind.values:
        raise Rejected("kind", f"{kind!r} is not one of {', '.join(Guide.Kind.values)}")
    level = meta.get("level") or ""
    if level not in Guide.Level.values:
        raise Rejected("level", f"{level!r} is not one of {', '.join(Guide.Level.values[1:])}")
    access = meta.get("suggested_access", "free")
    if access not in ACCESS:
        raise Rejected("suggested_access", f"{access!r} is not one of free, members, paid")
    published = meta.get("published")
    if published is not None:
        if isinstance(published, str):
            try:
                published = dt.date.fromisoformat(published)
            except ValueError:
                raise Rejected("published", f"{published!r} is not an ISO date") from None
        if not isinstance(published, dt.date):
            raise Rejected("published", "must be an ISO date (YYYY-MM-DD)")
    return {
        "title": _text(meta, "title", 200),
        "slug": slug,
        "category_name": _text(meta, "category", 120),
        "summary": _text(meta, "summary", 1000),
        "read_time_minutes": read_time,
        "kind": kind,
        "level": level,
        "visibility": ACCESS[access],
        "published": published,
    }


def _category(name: str) -> Category:
    category = Category.objects.filter(name=name).first()
    if category is None:
        base = slugify(name)[:45] or "category"
        slug, n = base, 2
        while Category.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        position = Category.objects.count()
        category = Category.objects.create(name=name, slug=slug, position=position)
    return category


def import_file(path: Path, report: ImportReport, *, dry_run: bool = False) -> None:
    try:
        text = path.read_text(encoding="utf-8")
        meta, body = split_front_matter(text)
        fields = validate(meta, path)
    except UnicodeDecodeError:
        report.rejected.append((path.name, "file: is not UTF-8 text"))
        return
    except Rejected as error:
        report.rejected.append((path.name, str(error)))
        return

    # An interactive guide's parts become rows of their own (guides.interactive).
    interactive_source = body if fields["kind"] == Guide.Kind.INTERACTIVE else None
    if interactive_source is not None:
        from guides.interactive import parse_interactive

        body = parse_interactive(body).text_around_parts(fields["summary"])

    with transaction.atomic():
        existing = Guide.objects.select_for_update().filter(slug=fields["slug"]).first()
        category = _category(fields["category_name"])
        values = {
            "title": fields["title"],
            "summary": fields["summary"],
            "body": body,
            "category": category,
            "kind": fields["kind"],
            "level": fields["level"],
            "visibility": fields["visibility"],
            "read_time_minutes": fields["read_time_minutes"],
        }
        published_at = (
            dt.datetime.combine(fields["published"], dt.time(9), tzinfo=dt.UTC)
            if fields["published"]
            else None
        )
        if existing is None:
            guide = Guide(slug=fields["slug"], status=Guide.Status.PUBLISHED, **values)
            guide.published_at = published_at or timezone.now()
            if not dry_run:
                guide.save()
                place_primary(guide)
            report.created.append(fields["slug"])
        else:
            changed = [name for name, value in values.items() if getattr(existing, name) != value]
            if published_at and existing.published_at != published_at:
                changed.append("published_at")
                existing.published_at = published_at
            if not changed:
                if not dry_run and place_primary(existing):
                    report.updated.append(fields["slug"])
                else:
                    report.unchanged.append(fields["slug"])
            else:
                for name, value in values.items():
                    setattr(existing, name, value)
                if not dry_run:
                    from guides.services import save_guide

                    save_guide(guide=existing)
                    place_primary(existing)
                report.updated.append(fields["slug"])
        if interactive_source is not None and not dry_run:
            from guides.interactive import import_interactive

            guide = Guide.objects.get(slug=fields["slug"])
            if import_interactive(guide, interactive_source) and fields["slug"] in report.unchanged:
                report.unchanged.remove(fields["slug"])
                report.updated.append(fields["slug"])
        if dry_run:
            transaction.set_rollback(True)


def import_directory(
    directory: Path, *, dry_run: bool = False, index: Path | None = None
) -> ImportReport:
    """Import the articles, then arrange them as `index` (an index.yaml) says, if given.

    A dry run does it all in one transaction rolled back at the end, so what it
    reports, the index's changes included, is exactly what a real run would do.
    """
    report = ImportReport()
    with transaction.atomic() if dry_run else contextlib.nullcontext():
        for path in sorted(directory.glob("*.md")):
            if path.name.lower() == "readme.md":
                continue
            import_file(path, report)
        if index is not None and index.is_file():
            try:
                report.arranged = apply_index(index)
            except BadIndex as error:
                report.rejected.append((index.name, str(error)))
        if dry_run:
            transaction.set_rollback(True)
    if not dry_run and (report.created or report.updated or report.arranged):
        from coaching.pagecache import bump_version

        bump_version()
    return report
