"""Full-text search over guides that never reveals text a reader may not see.

- Matching: PostgreSQL full text (websearch syntax, English stemming) over the
  public vector of every guide, and over the full-text vector only for guides the
  reader may read in full (DESIGN.md rule 1). Weights: title > summary > body.
- Misspellings: when the query finds nothing, each word is replaced by the
  closest word of the public text (trigram similarity) and the search runs again.
- Snippets: cut from the text the reader may see (preview or whole body).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection, transaction
from django.db.models import Case, Count, F, FloatField, Q, Value, When, Window

from guides.models import Guide

MAX_QUERY_LENGTH = 200
SNIPPET_WORDS = 32
SIMILARITY = 0.35
# How far into a body a snippet is looked for (about 2,000 words): whole bodies
# of a results page crossing from PostgreSQL cost more than the search itself.
SNIPPET_REACH = 12_000


@dataclass
class Hit:
    guide: Guide
    snippet: str
    full_text: bool


@dataclass
class SearchResults:
    query: str
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    corrected: str | None = None


def clean_query(raw: str) -> str:
    # PostgreSQL text cannot hold NUL; control characters never mean anything in a query.
    printable = "".join(ch if ch.isprintable() else " " for ch in raw[: MAX_QUERY_LENGTH * 4])
    return " ".join(printable.split())[:MAX_QUERY_LENGTH]


def _matching(query: str, user: Any) -> Any:
    """Published guides matching the query in the text this reader may see, ranked, counted.

    Each vector is matched in its own subquery so that PostgreSQL answers from
    the GIN indexes (see `_index_only`).
    """
    search = SearchQuery(query, search_type="websearch", config="english")
    in_public_text = Guide.objects.filter(search_vector=search).values("pk")
    in_full_text = Guide.objects.filter(
        Guide.objects.readable_in_full_by(user), full_search_vector=search
    ).values("pk")
    return (
        Guide.objects.published()
        .select_related("category")
        .filter(Q(pk__in=in_public_text) | Q(pk__in=in_full_text))
        # Ranked on the small vector (title, summary, opening) only: ranking on the
        # whole-text vector of 30,000-word guides cost most of the query's time.
        # A guide matching only in its body ranks 0 (then newest first) without
        # computing it: ts_rank on every hit cost 7 ms of 17 with 700 hits.
        .annotate(
            rank=Case(
                When(pk__in=in_public_text, then=SearchRank(F("search_vector"), search)),
                default=Value(0.0),
                output_field=FloatField(),
            ),
            total=Window(Count("pk")),
        )
        .defer(*HEAVY_FIELDS)
    )


HEAVY_FIELDS = (
    "body", "body_html", "preview_html", "toc", "body_text", "preview_text",
    "search_vector", "full_search_vector",
)  # fmt: skip


@contextmanager
def _index_only() -> Iterator[None]:
    """Keep the planner off sequential scans for the match.

    It prices `@@` on a whole guide's vector (15 KB, compressed out of line) like
    any cheap operator, so when a common word matches half the guides it reads
    every row and decompresses every vector: 20-35 ms at 1,000 guides, against
    2-5 ms from the GIN indexes (measured with EXPLAIN ANALYZE on the bench data).
    `SET LOCAL` ends with the transaction, so nothing else is affected.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        yield


def correct_spelling(query: str) -> str | None:
    """The query with each unknown word replaced by the nearest known word, or None."""
    words = re.findall(r"[\w'-]+", query.lower())
    if not words:
        return None
    corrected: list[str] = []
    changed = False
    with connection.cursor() as cursor:
        for word in words:
            cursor.execute("select exists(select 1 from guides_searchterm where word = %s)", [word])
            if cursor.fetchone()[0] or len(word) < 4:
                corrected.append(word)
                continue
            cursor.execute(
                "select word from guides_searchterm where word %% %s "
                "order by similarity(word, %s) desc, word limit 1",
                [word, word],
            )
            row = cursor.fetchone()
            if row and row[0] != word:
                corrected.append(row[0])
                changed = True
            else:
                corrected.append(word)
    return " ".join(corrected) if changed else None


def _lexemes(query: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "select coalesce(array_agg(lexeme), '{}') from unnest(to_tsvector('english', %s))",
            [query],
        )
        return list(cursor.fetchone()[0])


def _snippet_texts(readable: dict[int, bool], lexemes: list[str]) -> dict[int, str]:
    """The text each guide's snippet is cut from: its public preview when that holds
    a match, else the whole body for readers of it (else the preview anyway).

    Most hits match in their opening, and a preview is a few KB where a body
    runs to 200 KB: bodies cross from PostgreSQL only when needed, and only their
    first `SNIPPET_REACH` characters (a match further down shows the opening).
    """
    likes = ["%" + re.sub(r"([%_\\])", r"\\\1", lexeme.lower()) + "%" for lexeme in lexemes]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, CASE WHEN id = ANY(%(full)s) AND NOT lower(preview_text) LIKE ANY(%(likes)s)
                            THEN substr(body_text, 1, %(reach)s) ELSE preview_text END
              FROM guides_guide WHERE id = ANY(%(ids)s)
            """,
            {
                "likes": likes or ["%"],
                "reach": SNIPPET_REACH,
                "full": [pk for pk, ok in readable.items() if ok],
                "ids": list(readable),
            },
        )
        return dict(cursor.fetchall())


def _first_match(text: str, lexemes: list[str]) -> int:
    """Where the earliest word starting with a lexeme begins (0 if none)."""
    if not lexemes:
        return 0
    pattern = r"\b(?:" + "|".join(re.escape(lexeme) for lexeme in lexemes) + ")"
    found = re.search(pattern, text, re.IGNORECASE)
    return found.start() if found else 0


def make_snippet(text: str, lexemes: list[str], words: int = SNIPPET_WORDS) -> str:
    """A window of about `words` words around the first match, matches marked, escaped.

    The first match is found with one regex search over the whole text (guides
    run to 30,000 words), then only the window around it is split and marked.
    """
    if not text:
        return ""
    pattern = (
        re.compile(r"\b(?:" + "|".join(re.escape(lx) for lx in lexemes) + r")\w*", re.IGNORECASE)
        if lexemes
        else None
    )
    centre = _first_match(text, lexemes)
    # About seven characters a word: take a generous slice, then cut it to words.
    before = text[max(0, centre - words * 3) : centre].split()[-(words // 3) :] if centre else []
    after = text[centre : centre + words * 10].split()[: words - len(before)]
    window = before + after
    out = html.escape(" ".join(window))
    if pattern:
        out = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", out)
    prefix = "… " if before and not text.startswith(before[0]) else ""
    suffix = " …" if centre + len(" ".join(after)) < len(text.rstrip()) else ""
    return prefix + out + suffix


def _page(matches: Any, offset: int, limit: int) -> list[Guide]:
    return list(matches.order_by("-rank", "-published_at")[offset : offset + limit])


def search_guides(raw_query: str, user: Any, *, limit: int = 20, offset: int = 0) -> SearchResults:
    from guides.access import can_view

    query = clean_query(raw_query)
    results = SearchResults(query=query)
    if not query:
        return results
    with _index_only():
        page = _page(_matching(query, user), offset, limit)
        if not page and not offset:
            corrected = correct_spelling(query)
            if corrected:
                page = _page(_matching(corrected, user), offset, limit)
                results.corrected = corrected if page else None
        total: int = page[0].total if page else 0  # type: ignore[attr-defined]
        if not page and offset:  # past the last page: still say how many there are
            total = _matching(results.corrected or query, user).count()
    results.total = total
    lexemes = _lexemes(results.corrected or query)
    full = {guide.pk: can_view(user, guide) for guide in page}
    # The text each snippet may come from: the whole body only for readers of it.
    texts = _snippet_texts(full, lexemes)
    for guide in page:
        snippet = make_snippet(texts.get(guide.pk, ""), lexemes)
        hit = Hit(
            guide=guide, snippet=snippet or html.escape(guide.summary), full_text=full[guide.pk]
        )
        results.hits.append(hit)
    return results


def refresh_search_terms(guide_ids: list[int]) -> None:
    """Add the words of these guides' public text to the correction dictionary."""
    if not guide_ids:
        return
    ids = ",".join(str(int(pk)) for pk in guide_ids)
    columns = "title || ' ' || summary || ' ' || preview_text"
    inner = f"select to_tsvector('simple', {columns}) from guides_guide where id in ({ids})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(
            "insert into guides_searchterm (word) select word from ts_stat(%s) "
            "where length(word) between 3 and 100 and word ~ '^[a-z][a-z0-9''-]*$' "
            "on conflict (word) do nothing",
            [inner],
        )
