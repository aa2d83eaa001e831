"""Hybrid search: the full-text ranking and the semantic one, fused.

- Text: the same matching and ranking as `guides.search` (weighted full text,
  full vector only for guides the reader may read, spelling correction when
  nothing matches), as an ordered list of guide ids.
- Any word: a second stage over the guides the text and semantic rankings
  found, ranked by the query's topic words in their public text (title, summary,
  preview; PostgreSQL's `ts_rank`): what a question shares with the guide that
  answers it is a word or two, rarely all of them.
- Semantic: `guides.semantic.semantic_ranking`, over the passages the reader
  may see; a question is embedded without its question words.
- Fusion: reciprocal rank fusion, score = sum of weight / (K + rank), tuned on
  bench/search_eval.yaml (`make bench ARGS=search_quality`). A guide without
  passages yet is still found by its text.
- Snippet: the passage that answered when the semantic side found the guide
  and the passage is more than its title; else the text snippet as in text mode.
"""

from __future__ import annotations

import html
from typing import Any

from django.db import connection

from guides.access import ReadingRights
from guides.models import Guide
from guides.search import (
    _READABLE,
    SNIPPET_REACH,
    Hit,
    SearchResults,
    _index_only,
    correct_spelling,
    make_snippet,
)
from guides.semantic import SemanticHit, semantic_ranking

# Tuned on the tuning part of bench/search_eval.yaml (top-3 rate, then MRR) by
# `python -m bench.search_tune`, with the semantic shares of guides/semantic.py,
# over 384 combinations (any-word weight 0.5/0.8/1.2, K 10/20/40/60, semantic
# weight 1.5/2/3/4, and the shares): 100 % top-3, MRR 0.984 with all-MiniLM-L6-v2.
# The contextual model's ranking earns more trust than the static model's did
# (weight 1 and K 5 before). Body-only text matches stand 60 places down.
RRF_K = 20
TEXT_WEIGHT = 1.0
SEMANTIC_WEIGHT = 2.0
TEXT_DEPTH = 100  # text hits fused at most: a results page never goes deeper
# Where guides matched only in their body stand, after those matched in their
# public vector: as if this many places further down.
BODY_ONLY_OFFSET = 60

# Public-vector matches ranked, then body-only matches (rank 0, newest first),
# each branch cut to the depth before anything is joined or sorted: when a
# common word matches most guides (7,000 of 10,000), ranking and joining every
# match cost twice as long. A body branch row is never a public match that
# counts: with `depth` public matches the body rows fall below the limit.
_TEXT_RANKING = f"""
WITH q AS (SELECT websearch_to_tsquery('english', %(query)s) AS q),
public AS (
    SELECT g.id, ts_rank(g.search_vector, q.q) AS rank, g.published_at
      FROM guides_guide g CROSS JOIN q
     WHERE g.search_vector @@ q.q AND g.status = %(published)s AND g.published_at <= now()
     ORDER BY rank DESC, g.published_at DESC, g.id
     LIMIT %(depth)s
), body AS (
    SELECT g.id, 0::real AS rank, g.published_at
      FROM guides_guide g CROSS JOIN q
     WHERE g.full_search_vector @@ q.q AND {_READABLE}
       AND g.status = %(published)s AND g.published_at <= now()
       AND g.id NOT IN (SELECT id FROM public)
     ORDER BY g.published_at DESC, g.id
     LIMIT %(depth)s
)
SELECT id, rank FROM (SELECT * FROM public UNION ALL SELECT * FROM body) found
 ORDER BY rank DESC, published_at DESC, id
 LIMIT %(depth)s
"""  # noqa: S608 (only the constant _READABLE is formatted in)

# A second stage over the candidates the other two rankings found: how many of
# the query's topic words their public text (title, summary, preview) has, and
# where (title > summary > body). A question rarely has all its words in one
# guide, so the ranking above (every word) finds nothing or only body matches,
# while a topic word or two sit in the title or summary of the guide that
# answers. The english configuration has already dropped the question words.
# Only the candidates are ranked: the common words of a question match most
# guides, and ranking them all cost 8 ms at 1,000 guides.
_ANY_WORD_RANKING = """
WITH q AS (
    SELECT replace(plainto_tsquery('english', %(query)s)::text, ' & ', ' | ')::tsquery AS q
)
SELECT g.id, ts_rank(g.search_vector, q.q) AS rank
  FROM guides_guide g CROSS JOIN q
 WHERE g.id = ANY(%(candidates)s) AND q.q::text <> '' AND g.search_vector @@ q.q
 ORDER BY rank DESC, g.published_at DESC, g.id
"""
ANY_WORD_WEIGHT = 0.8  # tuned with the constants above
ANY_WORD_CANDIDATES = 20  # from each text ranking, with the semantic side's SEMANTIC_DEPTH

# The page's guides in the fused order, with what a hit shows. The passage comes
# only if it is public or the reader may read its guide (the rule's SQL form).
_PAGE = f"""
WITH page AS (
    SELECT * FROM unnest(%(ids)s::int[], %(passages)s::int[]) WITH ORDINALITY AS x(id, passage, n)
), query AS (
    SELECT array(SELECT lexeme FROM unnest(to_tsvector('english', %(query)s))) AS lexemes
)
SELECT g.id, g.slug, g.title, g.summary, c.name, g.visibility, g.read_time_minutes,
       {_READABLE}, query.lexemes,
       CASE WHEN {_READABLE} AND NOT EXISTS (
                SELECT FROM unnest(query.lexemes) AS word
                 WHERE strpos(lower(g.preview_text), word) > 0)
            THEN substr(g.body_text, 1, %(reach)s) ELSE g.preview_text END,
       p.text, p.position
  FROM page
  CROSS JOIN query
  JOIN guides_guide g ON g.id = page.id
  JOIN guides_category c ON c.id = g.category_id
  LEFT JOIN guides_guidepassage p ON p.id = page.passage AND p.guide_id = g.id
        AND (p.public OR {_READABLE})
 WHERE g.status = %(published)s AND g.published_at <= now()
 ORDER BY page.n
"""  # noqa: S608 (only the constant _READABLE is formatted in)


def _text_ranking(query: str, rights: ReadingRights) -> list[tuple[int, float]]:
    """Guide ids and text ranks, best first; rank 0: matched only beyond the public vector."""
    params = {
        "query": query,
        **rights.sql_params(),
        "published": Guide.Status.PUBLISHED.value,
        "depth": TEXT_DEPTH,
    }
    with connection.cursor() as cursor:
        cursor.execute(_TEXT_RANKING, params)
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _any_word_ranking(query: str, candidates: list[int]) -> list[tuple[int, float]]:
    """The candidates with any of the query's words in their public text, best first."""
    if not candidates:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_ANY_WORD_RANKING, {"query": query, "candidates": candidates})
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _fusion_ranks(ranking: list[tuple[int, float]]) -> list[tuple[int, int]]:
    """Rank positions for fusion: guides matched only in their body share one rank.

    Their order among themselves is by date, which says nothing about the query:
    a question's common words match deep in most long guides, and the newest
    of them must not get the credit of a first place.
    """
    ranked = [(guide_id, n) for n, (guide_id, rank) in enumerate(ranking, start=1) if rank > 0]
    tied = len(ranked) + BODY_ONLY_OFFSET
    return ranked + [(guide_id, tied) for guide_id, rank in ranking if rank <= 0]


def fuse(
    text: list[tuple[int, float]],
    semantic: list[SemanticHit],
    respelled: list[tuple[int, float]] | None = None,
    any_word: list[tuple[int, float]] | None = None,
) -> list[int]:
    """Reciprocal rank fusion of the rankings; text order breaks ties.

    `respelled` is the text ranking of the query with its unknown words
    corrected, fused as a third list when the typed query's own text matches
    were partial ("data sceince interveiw" matches "data" alone).
    """
    score: dict[int, float] = {}
    for ranking in (text, respelled or []):
        for guide_id, rank in _fusion_ranks(ranking):
            score[guide_id] = score.get(guide_id, 0.0) + TEXT_WEIGHT / (RRF_K + rank)
    for rank, (guide_id, _) in enumerate(any_word or [], start=1):
        score[guide_id] = score.get(guide_id, 0.0) + ANY_WORD_WEIGHT / (RRF_K + rank)
    for rank, hit in enumerate(semantic, start=1):
        score[hit.guide_id] = score.get(hit.guide_id, 0.0) + SEMANTIC_WEIGHT / (RRF_K + rank)
    text_rank = {guide_id: n for n, (guide_id, _) in enumerate(text)}
    return sorted(score, key=lambda g: (-score[g], text_rank.get(g, len(text))))


def hybrid_search(query: str, rights: ReadingRights, *, limit: int, offset: int) -> SearchResults:
    # One transaction and one `SET LOCAL` for every statement of the search.
    with _index_only():
        return _hybrid_search(query, rights, limit=limit, offset=offset)


def _hybrid_search(query: str, rights: ReadingRights, *, limit: int, offset: int) -> SearchResults:
    results = SearchResults(query=query)
    text = _text_ranking(query, rights)
    # Unknown words replaced by the likeliest known ones (cached per content
    # version): the whole search uses it when the query as typed matches nothing,
    # otherwise it is fused in beside the typed query's own text ranking.
    corrected = correct_spelling(query)
    respelled = _text_ranking(corrected, rights) if corrected else []
    if not text and respelled:
        results.corrected, text, respelled = corrected, respelled, []
    semantic = semantic_ranking(corrected or query, rights)
    candidates = [hit.guide_id for hit in semantic] + [
        guide_id for guide_id, rank in text[:ANY_WORD_CANDIDATES] + respelled[:ANY_WORD_CANDIDATES]
    ]
    any_word = _any_word_ranking(corrected or query, candidates)
    order = fuse(text, semantic, respelled, any_word)
    results.total = len(order)
    page = order[offset : offset + limit]
    if not page:
        return results
    answered = {hit.guide_id: hit.passage_id for hit in semantic}
    texts = {guide_id for guide_id, _ in text + respelled}
    params = {
        "ids": page,
        "passages": [answered.get(g) for g in page],
        "query": results.corrected or query,
        **rights.sql_params(),
        "published": Guide.Status.PUBLISHED.value,
        "reach": SNIPPET_REACH,
    }
    with connection.cursor() as cursor:
        cursor.execute(_PAGE, params)
        rows = cursor.fetchall()
    for row in rows:
        guide_id, slug, title, summary, category, visibility, minutes, full = row[:8]
        lexemes, text_source, passage, position = row[8:]
        use_passage = (
            bool(passage)
            and position != 0
            and (guide_id not in texts or _mentions(passage, lexemes))
        )
        snippet = make_snippet(passage if use_passage else (text_source or ""), lexemes)
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


def _mentions(text: str, lexemes: list[Any]) -> bool:
    lowered = text.lower()
    return any(lexeme and lexeme in lowered for lexeme in lexemes)
