"""How the coach's guides are arranged: sections in order, guides placed in them,
free tags, read-time ranges, and the import of all that from an index.yaml.

The index (format: the content corpus's README) lists categories in order, each
with entries in order; an entry is an article (by slug) or a video (no body, no
address yet: created as a draft for the coach to paste the address into). A guide
listed in two sections is placed in both; its primary placement stays the section
its front matter names when that is one of them, else its first listing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from guides.models import Category, Guide, Placement, Tag
from guides.video import embed_for

READ_TIME_TAG = re.compile(r"^\s*(\d+)\s*[-–]\s*(\d+)\s*(min|minute|hour)s?\s+read\s*$", re.I)


def read_time_label(low: int | None, high: int) -> str:
    """'45-60 min read', '2-3 hour read', or '12 min read' without a range."""
    if low and low < high:
        if low % 60 == 0 and high % 60 == 0 and high >= 120:
            return f"{low // 60}-{high // 60} hour read"
        return f"{low}-{high} min read"
    return f"{high} min read"


@dataclass
class EntryTags:
    read_time: tuple[int, int] | None = None
    level: str = ""
    free: list[str] = field(default_factory=list)


def split_tags(tags: list[Any]) -> EntryTags:
    """An index entry's bracketed tags: a read-time range, a level, the rest free tags."""
    found = EntryTags()
    for raw in tags:
        text = str(raw).strip()
        match = READ_TIME_TAG.match(text)
        if match:
            scale = 60 if match[3].lower() == "hour" else 1
            found.read_time = (int(match[1]) * scale, int(match[2]) * scale)
        elif text in Guide.Level.values and text:
            found.level = text
        elif text:
            found.free.append(text[:120])
    return found


def tag_named(name: str) -> Tag:
    tag = Tag.objects.filter(name=name).first()
    if tag is None:
        base = slugify(name)[:110] or "tag"
        slug, n = base, 2
        while Tag.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        tag = Tag.objects.create(name=name, slug=slug)
    return tag


def section_named(name: str) -> Category:
    category = Category.objects.filter(name=name).first()
    if category is None:
        base = slugify(name)[:45] or "section"
        slug, n = base, 2
        while Category.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        position = Category.objects.count()
        category = Category.objects.create(name=name, slug=slug, position=position)
    return category


def place_primary(guide: Guide) -> bool:
    """Make the guide's category its primary placement (kept at its position if placed)."""
    placement = Placement.objects.filter(guide=guide, category=guide.category_id).first()
    if placement is not None and placement.is_primary:
        return False
    Placement.objects.filter(guide=guide, is_primary=True).update(is_primary=False)
    if placement is None:
        Placement.objects.create(guide=guide, category=guide.category, is_primary=True)
    else:
        placement.is_primary = True
        placement.save(update_fields=["is_primary"])
    return True


class BadIndex(ValueError):
    """The index.yaml is not in the expected shape; the message names where."""


def read_index(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise BadIndex(f"index.yaml: not valid YAML ({error.__class__.__name__})") from None
    categories = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(categories, list):
        raise BadIndex("index.yaml: needs a list of 'categories'")
    for number, category in enumerate(categories, start=1):
        if not isinstance(category, dict) or not str(category.get("name") or "").strip():
            raise BadIndex(f"index.yaml: category {number} needs a name")
        entries = category.get("entries") or []
        if not isinstance(entries, list):
            raise BadIndex(f"index.yaml: category {category['name']!r}: entries must be a list")
        for entry in entries:
            if not isinstance(entry, dict) or not str(entry.get("title") or "").strip():
                raise BadIndex(f"index.yaml: an entry of {category['name']!r} needs a title")
    return sorted(categories, key=lambda c: c.get("order") or 0)


def apply_index(path: Path, *, dry_run: bool = False) -> list[str]:
    """Arrange sections and guides as the index says; the changes, one line each.

    Idempotent: a second run changes nothing and reports nothing. In a dry run
    every change is made and rolled back, so the lines are exactly what would happen.
    """
    categories = read_index(path)
    changes: list[str] = []
    with transaction.atomic():
        _apply(categories, changes)
        if dry_run:
            transaction.set_rollback(True)
    return changes


def _apply(categories: list[dict[str, Any]], changes: list[str]) -> None:
    names = [str(c["name"]).strip() for c in categories]
    # The index's sections first, in its order; the others keep theirs after them.
    others = Category.objects.exclude(name__in=names).order_by("position", "name")
    wanted = {name: position for position, name in enumerate(names)}
    for category in categories:
        name = str(category["name"]).strip()
        section = Category.objects.filter(name=name).first()
        if section is None:
            section = section_named(name)
            changes.append(f"create section {name!r}")
        parent_name = str(category.get("parent") or "").strip()
        parent = section_named(parent_name) if parent_name else None
        if section.position != wanted[name] or section.parent_id != (parent and parent.pk):
            changes.append(f"section {name!r} at position {wanted[name] + 1}")
            section.position, section.parent = wanted[name], parent
            section.save(update_fields=["position", "parent"])
    for offset, section in enumerate(others, start=len(names)):
        if section.position != offset:
            Category.objects.filter(pk=section.pk).update(position=offset)
    listings: dict[str, list[str]] = {}
    for category in categories:
        for entry in sorted(category.get("entries") or [], key=lambda e: e.get("order") or 0):
            slug = entry.get("slug") or slugify(str(entry["title"]))[:200]
            listings.setdefault(slug, []).append(str(category["name"]).strip())
    for category in categories:
        section = Category.objects.get(name=str(category["name"]).strip())
        entries = sorted(category.get("entries") or [], key=lambda e: e.get("order") or 0)
        listed: set[int] = set()
        for position, entry in enumerate(entries, start=1):
            guide = _guide_for(entry, section, changes)
            if guide is None:
                continue
            _place(guide, section, position, listings[guide.slug], changes)
            _describe(guide, entry, changes)
            listed.add(guide.pk)
        # Guides the index does not list here (their front matter put them here) follow
        # the listed ones, newest first.
        unlisted = (
            Placement.objects.filter(category=section)
            .exclude(guide_id__in=listed)
            .order_by("-guide__published_at", "guide__title")
        )
        for position, placement in enumerate(unlisted, start=len(entries) + 1):
            if placement.position != position:
                Placement.objects.filter(pk=placement.pk).update(position=position)


def _guide_for(entry: dict[str, Any], section: Category, changes: list[str]) -> Guide | None:
    slug = entry.get("slug")
    if slug:
        guide = Guide.objects.filter(slug=slug).first()
        if guide is None:
            changes.append(f"skip {slug!r}: listed in the index but no article has that slug")
        return guide
    if entry.get("kind") != "video":
        changes.append(f"skip {entry['title']!r}: an article entry without a slug")
        return None
    slug = slugify(str(entry["title"]))[:200]
    guide = Guide.objects.filter(slug=slug).first()
    if guide is not None:
        return guide
    video_url = str(entry.get("video_url") or "").strip()
    playable = bool(video_url) and embed_for(video_url) is not None
    guide = Guide(
        title=str(entry["title"]).strip()[:200],
        slug=slug,
        summary=str(entry.get("summary") or entry["title"]).strip()[:1000],
        category=section,
        kind=Guide.Kind.VIDEO,
        video_url=video_url if playable else "",
        # Without its address a video cannot be watched: a draft until the coach pastes it.
        status=Guide.Status.PUBLISHED if playable else Guide.Status.DRAFT,
        published_at=timezone.now() if playable else None,
        read_time_minutes=1,
    )
    guide.save()
    changes.append(f"create video {slug!r} as {'published' if playable else 'a draft'}")
    return guide


def _place(
    guide: Guide, section: Category, position: int, listed_in: list[str], changes: list[str]
) -> None:
    # Primary: the section the guide already belongs to when the index lists it
    # there too, else the first section listing it.
    primary_name = guide.category.name if guide.category.name in listed_in else listed_in[0]
    is_primary = section.name == primary_name
    if is_primary and guide.category_id != section.pk:
        guide.category = section
        Guide.objects.filter(pk=guide.pk).update(category=section)
        changes.append(f"{guide.slug!r}: primary section {section.name!r}")
    if is_primary:
        Placement.objects.filter(Q(guide=guide, is_primary=True), ~Q(category=section)).update(
            is_primary=False
        )
    placement = Placement.objects.filter(guide=guide, category=section).first()
    if placement is None:
        Placement.objects.create(
            guide=guide, category=section, position=position, is_primary=is_primary
        )
        changes.append(f"place {guide.slug!r} in {section.name!r} at {position}")
    elif (placement.position, placement.is_primary) != (position, is_primary):
        placement.position, placement.is_primary = position, is_primary
        placement.save(update_fields=["position", "is_primary"])
        changes.append(f"move {guide.slug!r} in {section.name!r} to {position}")


def _describe(guide: Guide, entry: dict[str, Any], changes: list[str]) -> None:
    tags = split_tags(entry.get("tags") or [])
    updates: dict[str, Any] = {}
    if tags.read_time:
        low, high = tags.read_time
        if (guide.read_time_low_minutes, guide.read_time_minutes) != (low, high):
            updates.update(read_time_low_minutes=low, read_time_minutes=high)
    if tags.level and guide.level != tags.level:
        updates["level"] = tags.level
    if updates:
        Guide.objects.filter(pk=guide.pk).update(**updates)
        changes.append(f"{guide.slug!r}: {', '.join(sorted(updates))}")
    have = set(guide.tags.values_list("name", flat=True))
    for name in tags.free:
        if name not in have:
            guide.tags.add(tag_named(name))
            changes.append(f"tag {guide.slug!r} {name!r}")


# The plain hub shows a section's first guides; "All N" leads to the section's own
# list. A small site shows everything; a thousand guides never make one huge page.
SHOWN_PER_SECTION = 6


@dataclass
class Section:
    category: Category
    guides: list[Guide]
    total: int = 0  # guides placed in this section, shown or not
    children: list[Section] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.total + sum(child.count for child in self.children)

    @property
    def more(self) -> int:
        return self.total - len(self.guides)


def hub_sections() -> list[Section]:
    """Top sections in the coach's order, each with its first guides in their placed
    order and its sub-sections; a guide placed in two sections is in both. Four
    queries, and only the guides shown are loaded; sections without a published
    guide are left out."""
    live = Guide.objects.listed().order_by("-published_at", "-pk")
    homes = dict(live.values_list("pk", "category_id"))
    placed: dict[int, list[tuple[int, int]]] = {}
    seen: set[tuple[int, int]] = set()
    rows = Placement.objects.filter(guide__in=live.order_by().values("pk")).values_list(
        "category_id", "guide_id", "position"
    )
    for category_id, guide_id, position in rows:
        placed.setdefault(category_id, []).append((position, guide_id))
        seen.add((category_id, guide_id))
    # A guide saved without a placement still shows, under its own category, last
    # (newest first among those).
    for rank, (guide_id, category_id) in enumerate(homes.items()):
        if (category_id, guide_id) not in seen:
            placed.setdefault(category_id, []).append((10**9 + rank, guide_id))
    ordered = {
        category_id: [guide_id for _, guide_id in sorted(pairs)]
        for category_id, pairs in placed.items()
    }
    shown_ids = {pk for ids in ordered.values() for pk in ids[:SHOWN_PER_SECTION]}
    guides = {guide.pk: guide for guide in live.filter(pk__in=shown_ids)}

    def section(category: Category) -> Section:
        ids = ordered.get(category.pk, [])
        return Section(category, [guides[pk] for pk in ids[:SHOWN_PER_SECTION]], total=len(ids))

    categories = list(Category.objects.all())
    tops = [section(c) for c in categories if c.parent_id is None]
    by_pk = {s.category.pk: s for s in tops}
    for category in categories:
        if category.parent_id in by_pk:
            child = section(category)
            if child.guides:
                by_pk[category.parent_id].children.append(child)
    return [s for s in tops if s.count]
