"""Interactive guides: a guide read as ordered parts (the "14 layers of the AI stack" page).

In Markdown such a guide is an optional opening, an "at a glance" section whose
numbered list gives each part's one-line summary, one `## <Word> N: Title`
heading per part, and optional closing sections after the last part. The
importer stores the parts as `GuidePart` rows and keeps the text around them
as the guide's body; the coach edits them in the guide's admin page after that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from coaching.markdown import render_markdown
from guides.models import Guide, GuidePart
from guides.rendering import count_words, html_to_text

PART_HEADING = re.compile(r"^##\s+\w+\s+(\d+)\s*[:.\u2013\u2014-]\s*(.+?)\s*#*\s*$")
OVERVIEW_HEADING = re.compile(r"^##\s+.*\bat a glance\b", re.IGNORECASE)
ANY_H2 = re.compile(r"^##\s")
FENCE = re.compile(r"^\s*(```|~~~)")
LIST_ITEM = re.compile(r"^\d+[.)]\s+(.*)$")
# A table's first column that names players, and a table of figures ("| Metric | Value |").
PLAYER_COLUMNS = {"company", "entity", "organization", "organisation", "project"}
MAX_PLAYERS = 8


@dataclass
class ParsedPart:
    number: int
    title: str
    summary: str = ""
    body: str = ""
    key_figures: str = ""
    key_players: str = ""


@dataclass
class Interactive:
    intro: str = ""
    overview_title: str = ""
    overview: list[str] = field(default_factory=list)
    overview_note: str = ""
    parts: list[ParsedPart] = field(default_factory=list)
    closing: str = ""

    def text_around_parts(self, summary: str = "") -> str:
        """What stays the guide's own body: the opening (unless it only repeats the
        summary shown under the title) and the closing sections."""
        intro = self.intro.strip()
        if " ".join(intro.split()) == " ".join(summary.split()):
            intro = ""
        return "\n\n".join(text for text in (intro, self.closing.strip()) if text) + "\n"


def _sections(markdown: str) -> list[tuple[str, list[str]]]:
    """(heading line, body lines) per `## ` heading, ignoring headings inside fenced code."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    fenced = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        if not fenced and ANY_H2.match(line):
            sections.append((line.strip(), []))
        else:
            sections[-1][1].append(line)
    return sections


def _strip_front_matter(markdown: str) -> str:
    if markdown.startswith("---"):
        parts = markdown.split("\n---", 1)
        if len(parts) == 2:
            return parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return markdown


def _overview(lines: list[str]) -> tuple[list[str], str]:
    """The numbered list's items (continuation lines joined) and the prose around it."""
    items: list[str] = []
    note: list[str] = []
    in_item = False
    for line in lines:
        match = LIST_ITEM.match(line.strip())
        if match:
            items.append(match[1].strip())
            in_item = True
        elif in_item and line.startswith((" ", "\t")) and line.strip():
            items[-1] += " " + line.strip()
        else:
            in_item = False
            note.append(line)
    return items, "\n".join(note).strip()


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _plain(cell: str) -> str:
    """A table cell as plain text: no emphasis marks, links reduced to their label."""
    cell = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", cell)
    return cell.replace("**", "").replace("__", "").strip()


def _is_delimiter(row: list[str]) -> bool:
    return all(set(cell) <= set(":- ") for cell in row)


def _tables(lines: list[str]) -> list[list[list[str]]]:
    """Header and body rows of each table; a second delimiter row starts a new table
    (the corpus has tables written back to back without a blank line)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*lines, ""]:
        if line.strip().startswith("|"):
            row = _cells(line)
            if _is_delimiter(row):
                if len(current) > 1:
                    tables.append(current[:-1])
                    current = current[-1:]
                continue
            current.append(row)
        elif current:
            tables.append(current)
            current = []
    return tables


def _key_facts(lines: list[str]) -> tuple[str, str]:
    """Figures from a "Metric | Value" table and players from the first table of
    companies: what the original page showed in its side cards."""
    figures: list[str] = []
    players: list[str] = []
    for table in _tables(lines):
        if len(table) < 2:
            continue
        head = [cell.lower() for cell in table[0]]
        if head[:2] == ["metric", "value"] and not figures:
            for row in table[1:]:
                if len(row) >= 2 and row[0] and row[1]:
                    when = f" ({_plain(row[2])})" if len(row) > 2 and row[2] else ""
                    figures.append(f"{_plain(row[0])}: {_plain(row[1])}{when}")
        elif head[0] in PLAYER_COLUMNS and not players:
            # A name starts with a letter: rows whose name the export lost start with a figure.
            names = [_plain(row[0]) for row in table[1:] if row]
            players = [name for name in names if name[:1].isalpha()][:MAX_PLAYERS]
    return "\n".join(figures), "\n".join(players)


def parse_interactive(markdown: str) -> Interactive:
    """Split an interactive guide's Markdown into opening, overview, parts and closing."""
    parsed = Interactive()
    intro: list[str] = []
    closing: list[str] = []
    for heading, lines in _sections(_strip_front_matter(markdown)):
        numbered = PART_HEADING.match(heading)
        if not heading:
            intro = lines
        elif OVERVIEW_HEADING.match(heading) and not parsed.parts:
            parsed.overview_title = heading.lstrip("#").strip()
            parsed.overview, parsed.overview_note = _overview(lines)
        elif numbered:
            figures, players = _key_facts(lines)
            parsed.parts.append(
                ParsedPart(
                    number=int(numbered[1]),
                    title=numbered[2],
                    body="\n".join(lines).strip() + "\n",
                    key_figures=figures,
                    key_players=players,
                )
            )
        elif parsed.parts:
            closing += [heading, *lines]
        else:
            intro += [heading, *lines]
    for parsed_part, summary in zip(parsed.parts, parsed.overview, strict=False):
        parsed_part.summary = summary[:300]
    parsed.intro = "\n".join(intro).strip()
    parsed.closing = "\n".join(closing).strip()
    return parsed


def render_part_body(markdown: str) -> str:
    """A part's body as a guide body is rendered: Markdown without raw HTML, nh3-sanitised."""
    html, _ = render_markdown(markdown, maths=True)
    return html


def contents_with_parts(toc: list[dict[str, Any]], parts: list[GuidePart]) -> list[dict[str, Any]]:
    """The parts (#part-N, 1-based in reading order), then the body's own headings."""
    body_toc = [item for item in toc if not str(item.get("id", "")).startswith("part-")]
    return [
        {"level": 2, "id": f"part-{number}", "text": part.title}
        for number, part in enumerate(parts, start=1)
    ] + body_toc


def refresh_from_parts(guide: Guide) -> None:
    """What the guide derives from its parts: contents, word count and readers' search text.

    Run after the parts are saved (the guide's own save derives these from its body
    alone). The contents list the parts, then the body's headings. `body_text` feeds
    `full_search_vector`, which a query matches only for readers entitled to the
    guide (guides.search), so gated parts stay out of visitors' results.
    """
    guide.refresh_from_db(fields=["body_html", "toc"])
    parts = list(guide.parts.all())
    toc = contents_with_parts(guide.toc, parts)
    text = " ".join(
        [html_to_text(guide.body_html), *(f"{p.title} {html_to_text(p.body_html)}" for p in parts)]
    ).strip()
    Guide.objects.filter(pk=guide.pk).update(body_text=text, word_count=count_words(text), toc=toc)
    Guide.objects.filter(pk=guide.pk).update_search_vectors()


def _fields(part: ParsedPart | GuidePart) -> tuple[str, str, str, str, str]:
    return (part.title, part.summary, part.body, part.key_figures, part.key_players)


@transaction.atomic
def import_interactive(guide: Guide, markdown: str) -> bool:
    """Make `guide` the interactive guide `markdown` describes; True if anything changed.

    The parts are replaced as a whole when any differs (they are edited in the
    admin afterwards; a re-import is the corpus winning). Safe to run twice.
    """
    from guides.services import save_guide

    parsed = parse_interactive(markdown)
    changed = False
    body = parsed.text_around_parts(guide.summary)
    if guide.body != body or guide.kind != Guide.Kind.INTERACTIVE:
        guide.body = body
        guide.kind = Guide.Kind.INTERACTIVE
        save_guide(guide=guide)
        changed = True
    existing = list(guide.parts.all())
    if [_fields(p) for p in existing] != [_fields(p) for p in parsed.parts]:
        guide.parts.all().delete()
        for position, part in enumerate(parsed.parts, start=1):
            GuidePart(
                guide=guide,
                position=position,
                title=part.title,
                summary=part.summary,
                body=part.body,
                key_figures=part.key_figures,
                key_players=part.key_players,
            ).save()
        changed = True
    if changed:
        refresh_from_parts(guide)
    return changed
