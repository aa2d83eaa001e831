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
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q

from guides.models import Guide

MAX_QUERY_LENGTH = 200
SNIPPET_WORDS = 32
SIMILARITY = 0.35


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
    search = SearchQuery(query, search_type="websearch", config="english")
    full_allowed = Guide.objects.readable_in_full_by(user)
    return (
        Guide.objects.published()
        .select_related("category")
        .filter(Q(search_vector=search) | (full_allowed & Q(full_search_vector=search)))
        .annotate(
            rank=SearchRank(F("search_vector"), search)
            + SearchRank(F("full_search_vector"), search) * 0.5
        )
        .defer("body", "body_html", "preview_html", "toc")
    )


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


def make_snippet(text: str, lexemes: list[str], words: int = SNIPPET_WORDS) -> str:
    """A window of `words` words around the first match, matches marked, HTML-escaped."""
    tokens = text.split()
    if not tokens:
        return ""
    pattern = (
        re.compile(r"\b(?:" + "|".join(re.escape(lx) for lx in lexemes) + r")\w*", re.IGNORECASE)
        if lexemes
        else None
    )
    start = 0
    if pattern:
        for index, token in enumerate(tokens):
            if pattern.search(token):
                start = max(0, index - words // 3)
                break
    window = tokens[start : start + words]
    out = html.escape(" ".join(window))
    if pattern:
        out = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", out)
    prefix = "… " if start > 0 else ""
    suffix = " …" if start + words < len(tokens) else ""
    return prefix + out + suffix


def search_guides(raw_query: str, user: Any, *, limit: int = 20, offset: int = 0) -> SearchResults:
    from guides.access import can_view

    query = clean_query(raw_query)
    results = SearchResults(query=query)
    if not query:
        return results
    matches = _matching(query, user)
    total = matches.count()
    if total == 0:
        corrected = correct_spelling(query)
        if corrected:
            matches = _matching(corrected, user)
            total = matches.count()
            if total:
                results.corrected = corrected
    results.total = total
    lexemes = _lexemes(results.corrected or query)
    for guide in matches.order_by("-rank", "-published_at")[offset : offset + limit]:
        full = can_view(user, guide)
        text = guide.body_text if full else guide.preview_text
        snippet = make_snippet(text, lexemes) or html.escape(guide.summary)
        results.hits.append(Hit(guide=guide, snippet=snippet, full_text=full))
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
