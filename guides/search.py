"""Full-text search over guides that never reveals text a reader may not see.

- Matching: PostgreSQL full text (websearch syntax, English stemming) over the
  public vector of every guide, and over the full-text vector only for guides the
  reader may read in full (DESIGN.md rule 1, `guides.access.ReadingRights`).
  Weights: title > summary > body.
- Misspellings: when the query finds nothing, each unknown word is replaced by
  the likeliest word of the public text (trigram similarity, then frequency)
  and the search runs again.
- Snippets: cut from the text the reader may see (preview or whole body).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.urls import reverse

from coaching.pagecache import current_version
from guides.access import ReadingRights, reading_rights
from guides.models import Guide

MAX_QUERY_LENGTH = 200
# Deeper pages are refused by the API and clamped on the page: an OFFSET of millions
# would make one request scan the whole index.
MAX_PAGE = 1000
SNIPPET_WORDS = 32
# How far into a body a snippet is looked for (about 2,000 words): whole bodies
# of a results page crossing from PostgreSQL cost more than the search itself.
SNIPPET_REACH = 12_000


@dataclass
class Hit:
    """One result as pages and the API show it: no guide model, none of its text."""

    slug: str
    title: str
    summary: str
    category: str
    visibility: str
    read_time_minutes: int
    snippet: str
    full_text: bool

    @property
    def url(self) -> str:
        return reverse("guides:detail", args=[self.slug])


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


# Whether the reader may see a guide's whole text: the gating rule's own SQL.
_READABLE = ReadingRights.SQL

# One statement answers a results page: the total, the page's guides in order,
# whether each may be read in full, the query's lexemes, and the text its
# snippet is cut from. Written as SQL, not the ORM, because building the ORM
# query and its model instances cost about as much as PostgreSQL's own work
# (`make bench ARGS=guides_pages` measures the search page).
#
# - Matching: each vector in its own branch so that each uses its GIN index (see
#   `_index_only`); the full-text vector only for guides the reader may read.
# - Ranking: on the small public vector (title, summary, opening) only, and only
#   for guides matching it. Ranking the whole text of 30,000-word guides cost most
#   of the query's time; a guide matching only in its body ranks 0 (newest first).
# - Snippet text: the preview when it holds a match, else the opening
#   `SNIPPET_REACH` characters of the body for readers of it (previews are a few
#   KB; bodies run to 200 KB).
_FIND = f"""
WITH matched AS (
    SELECT g.id, true AS in_public FROM guides_guide g
     WHERE g.search_vector @@ websearch_to_tsquery('english', %(query)s)
    UNION ALL
    SELECT g.id, false FROM guides_guide g
     WHERE g.full_search_vector @@ websearch_to_tsquery('english', %(query)s) AND {_READABLE}
), hits AS MATERIALIZED (
    SELECT g.id, g.published_at,
           CASE WHEN m.in_public THEN ts_rank(g.search_vector,
                websearch_to_tsquery('english', %(query)s)) ELSE 0 END AS rank
      FROM (SELECT id, bool_or(in_public) AS in_public FROM matched GROUP BY id) m
      JOIN guides_guide g ON g.id = m.id
     WHERE g.status = %(published)s AND g.published_at <= now()
), page AS (
    SELECT * FROM hits ORDER BY rank DESC, published_at DESC, id
     LIMIT %(limit)s OFFSET %(offset)s
), query AS (
    SELECT array(SELECT lexeme FROM unnest(to_tsvector('english', %(query)s))) AS lexemes
)
SELECT (SELECT count(*) FROM hits), g.slug, g.title, g.summary, c.name, g.visibility,
       g.read_time_minutes, {_READABLE}, query.lexemes,
       CASE WHEN {_READABLE} AND NOT EXISTS (
                SELECT FROM unnest(query.lexemes) AS word
                 WHERE strpos(lower(g.preview_text), word) > 0)
            THEN substr(g.body_text, 1, %(reach)s) ELSE g.preview_text END
  FROM query
  LEFT JOIN page ON true
  LEFT JOIN guides_guide g ON g.id = page.id
  LEFT JOIN guides_category c ON c.id = g.category_id
 ORDER BY page.rank DESC, page.published_at DESC, page.id
"""  # noqa: S608 (only the constant _READABLE is formatted in)


@dataclass
class _Found:
    total: int
    rows: list[tuple[Any, ...]]  # slug, title, summary, category, visibility, minutes,
    # readable in full, lexemes, snippet text


def _find(query: str, rights: ReadingRights, limit: int, offset: int) -> _Found:
    """The guides matching the query in the text this reader may see, one page of them."""
    params: dict[str, Any] = {
        "query": query,
        **rights.sql_params(),
        "published": Guide.Status.PUBLISHED.value,
        "limit": limit,
        "offset": offset,
        "reach": SNIPPET_REACH,
    }
    with connection.cursor() as cursor:
        cursor.execute(_FIND, params)
        rows = cursor.fetchall()
    # With nothing on the page, one row still carries the total (and NULLs).
    return _Found(total=rows[0][0], rows=[row[1:] for row in rows if row[1] is not None])


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


# How much a word's frequency counts against its likeness to the typed word: a
# word ten times as frequent makes up about 0.07 of trigram similarity. So the
# likelier of two near-equal candidates wins ("modle": "model", not "mode"),
# while a clearly closer word still beats a common one.
FREQUENCY_BONUS = 0.03

_CORRECT = """
SELECT CASE
    WHEN length(w.word) < 4 OR EXISTS (
        SELECT FROM guides_searchterm t
         WHERE t.word = w.word
            OR t.stem = coalesce((ts_lexize('english_stem', w.word))[1], w.word))
    THEN w.word
    ELSE coalesce((
        SELECT t.word FROM guides_searchterm t WHERE t.word %% w.word
         ORDER BY similarity(t.word, w.word) + %(bonus)s * ln(t.weight) DESC, t.word
         LIMIT 1), w.word)
    END
  FROM unnest(%(words)s::text[]) WITH ORDINALITY AS w(word, n)
 ORDER BY w.n
"""


def correct_spelling(query: str) -> str | None:
    """The query with each unknown word replaced by the likeliest known word, or None.

    Known means a word of the public text of guides (`count_public_words`), or
    another form of one (the same English stem); words under four letters are
    left alone. Candidates are pg_trgm's `%` (similarity at least 0.3), ranked
    by similarity plus a bonus for frequency (`FREQUENCY_BONUS`). The answer
    depends on public text only, so it is shared through the cache until the
    content version changes.
    """
    words = re.findall(r"[\w'-]+", query.lower())
    if not words:
        return None
    digest = hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]
    key = f"guides:spelling:{current_version()}:{digest}"
    known = cache.get(key)
    if known is not None:
        return known or None
    with connection.cursor() as cursor:
        cursor.execute(_CORRECT, {"words": words, "bonus": FREQUENCY_BONUS})
        corrected = [row[0] for row in cursor.fetchall()]
    answer = " ".join(corrected) if corrected != words else None
    cache.set(key, answer or "", 3600)
    return answer


def _first_match(text: str, lexemes: list[str]) -> int:
    """Where the earliest word starting with a lexeme begins (0 if none).

    `str.find` on the lowered text, then a check that the hit starts a word: a
    case-insensitive regex over 12,000 characters cost 0.1 ms a hit, a third of
    a results page's Python time.
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # a few letters lower to two ("İ"): positions would shift
        pattern = r"\b(?:" + "|".join(re.escape(lexeme) for lexeme in lexemes) + ")"
        found = re.search(pattern, text, re.IGNORECASE) if lexemes else None
        return found.start() if found else 0
    best = len(text)
    for lexeme in lexemes:
        at = lowered.find(lexeme) if lexeme else -1
        while 0 <= at < best:
            if at == 0 or not (lowered[at - 1].isalnum() or lowered[at - 1] == "_"):
                best = at
                break
            at = lowered.find(lexeme, at + 1)
    return best if best < len(text) else 0


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


def _search(
    query: str, rights: ReadingRights, limit: int, offset: int
) -> tuple[str | None, _Found]:
    """The page for the query as typed, or else for its spelling correction (and which)."""
    found = _find(query, rights, limit, offset)
    if found.total:
        return None, found
    corrected = correct_spelling(query)
    if corrected is None:
        return None, found
    found = _find(corrected, rights, limit, offset)
    return (corrected if found.total else None), found


MODES = ("hybrid", "text")


def search_guides(
    raw_query: str,
    user: Any,
    *,
    limit: int = 20,
    offset: int = 0,
    session: Any = None,
    mode: str = "hybrid",
) -> SearchResults:
    """One page of results: `hybrid` (text and semantic, fused) or `text` only."""
    if mode not in MODES:
        raise ValueError(f"unknown search mode {mode!r}")
    query = clean_query(raw_query)
    results = SearchResults(query=query)
    if not query:
        return results
    rights = reading_rights(user, session)
    if mode == "hybrid":
        from guides.hybrid import hybrid_search

        return hybrid_search(query, rights, limit=limit, offset=offset)
    with _index_only():
        results.corrected, found = _search(query, rights, limit, offset)
    results.total = found.total
    for slug, title, summary, category, visibility, minutes, full, lexemes, text in found.rows:
        snippet = make_snippet(text or "", lexemes)
        results.hits.append(
            Hit(
                slug=slug,
                title=title,
                summary=summary,
                category=category,
                visibility=visibility,
                read_time_minutes=minutes,
                snippet=snippet or html.escape(summary),
                full_text=full,
            )
        )
    return results


# The text anyone may read, as the spelling dictionary counts it: a public
# guide's whole body, only the preview of a gated one, and nothing of a guide
# that is not published. Counting words beyond it would let a suggestion reveal
# a word of paid text (DESIGN.md rule 1).
PUBLIC_TEXT = """title || ' ' || summary || ' ' || CASE WHEN visibility = 'public'
    THEN body_text ELSE preview_text END"""

_COUNT_WORDS = """
INSERT INTO guides_searchterm (word, stem, weight)
SELECT word, coalesce((ts_lexize('english_stem', word))[1], word), %(sign)s * nentry
  FROM ts_stat(%(vectors)s)
 WHERE length(word) BETWEEN 3 AND 100 AND word ~ '^[a-z][a-z0-9''-]*$'
    ON CONFLICT (word) DO UPDATE SET weight = guides_searchterm.weight + excluded.weight
"""


def count_public_words(guide_ids: list[int], *, sign: int) -> None:
    """Add (sign 1) or take back (sign -1) these guides' public words in the dictionary.

    Each word's weight is how often it occurs in the public text of published
    guides. A save takes back the words of the row as stored, then adds those
    of the row as saved, so only the guide that changed is read (a rebuild over
    every guide reads megabytes of text).
    """
    if not guide_ids:
        return
    ids = ",".join(str(int(pk)) for pk in guide_ids)
    vectors = (
        f"SELECT to_tsvector('simple', {PUBLIC_TEXT}) FROM guides_guide"  # noqa: S608
        f" WHERE id IN ({ids}) AND status = 'published'"
    )
    with connection.cursor() as cursor:
        cursor.execute(_COUNT_WORDS, {"sign": sign, "vectors": vectors})
        if sign < 0:
            cursor.execute("DELETE FROM guides_searchterm WHERE weight <= 0")
