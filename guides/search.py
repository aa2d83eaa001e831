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
        # Ranked on the small vector (title, summary, opening) only: ranking on the
        # whole-text vector of 30,000-word guides cost most of the query's time.
        .annotate(rank=SearchRank(F("search_vector"), search))
        .defer("body", "body_html", "preview_html", "toc", "body_text", "preview_text")
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


def _first_match(text: str, lexemes: list[str]) -> int:
    """Where the earliest lexeme starts a word (0 if none): str.find, not a regex scan."""
    lowered = text.lower()
    best = -1
    for lexeme in lexemes:
        position = lowered.find(lexeme.lower())
        while position > 0 and lowered[position - 1].isalnum():
            position = lowered.find(lexeme.lower(), position + 1)
        if position >= 0 and (best < 0 or position < best):
            best = position
    return max(best, 0)


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
    page = list(matches.order_by("-rank", "-published_at")[offset : offset + limit])
    full = {guide.pk: can_view(user, guide) for guide in page}
    # The text each snippet may come from: the whole body only for readers of it.
    texts = dict(
        Guide.objects.filter(pk__in=[pk for pk, ok in full.items() if ok]).values_list(
            "pk", "body_text"
        )
    )
    texts.update(
        Guide.objects.filter(pk__in=[pk for pk, ok in full.items() if not ok]).values_list(
            "pk", "preview_text"
        )
    )
    for guide in page:
        snippet = make_snippet(texts.get(guide.pk, ""), lexemes) or html.escape(guide.summary)
        results.hits.append(Hit(guide=guide, snippet=snippet, full_text=full[guide.pk]))
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
