"""Semantic retrieval: guides' passages embedded on save, searched in-process.

- Writing: `embed_guide_passages` (run by the `embed_guide` task after every
  save that changes a guide's text) replaces the guide's `GuidePassage` rows.
- Reading: each process keeps one matrix of the passages of published guides,
  loaded on first use and again when the content version changes
  (`coaching.pagecache.current_version`, which the task bumps). A query's
  embedding times that matrix is a few milliseconds even at 10,000 guides
  (bench/search_quality.py measures it); PostgreSQL here has no vector type.
- Gating: a passage may match only if it is public (title, summary, preview)
  or the reader may read its guide in full: `ReadingRights.can_read`, the one
  rule, asked once per gated guide. The SQL that fetches the passage for the
  snippet checks the same rule again in its SQL form.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Max, Q

from coaching.pagecache import bump_version, current_version
from guides.access import ReadingRights
from guides.embeddings import DIMENSIONS, embed, from_bytes, guide_passages, to_bytes
from guides.models import Guide, GuidePassage

# Below this cosine a passage says nothing about the query: the guide is left
# to the text ranking (tuned on bench/search_eval.yaml).
MIN_SIMILARITY = 0.30
# How many guides the semantic side proposes at most.
SEMANTIC_DEPTH = 20
# A guide's score: this share from its best passage, the rest from the centroid
# of the passages the reader may see. The best passage alone favours the longest
# guides (more passages, more chances of one near any query); the centroid says
# what the guide is about as a whole.
BEST_PASSAGE_SHARE = 0.4
# Guides whose passages are compared one by one, chosen by centroid: all of them
# up to this many; at 10,000 guides it keeps the scan to a few thousand rows.
CANDIDATE_GUIDES = 100
# Share of the score from the title or summary (a guide's first two passages,
# always public), whichever is nearer: what the guide says it is about. With
# BEST_PASSAGE_SHARE, chosen on the tuning part of bench/search_eval.yaml (top-3
# rate, then MRR) with the fusion constants of guides/hybrid.py: 0.35 and 0.4.
# With all-MiniLM-L6-v2 the tuning queries score the same for every share and
# threshold tried (0.15/0.35, 0.3/0.6, 0.2/0.3), so these keep their values.
HEAD_SHARE = 0.35


def embed_guide_passages(guide_id: int) -> int:
    """Replace a guide's passages and their vectors; how many were written.

    The guide's row is locked while its text is read and its passages written,
    so two saves in quick succession leave the passages of the later text.
    """
    with transaction.atomic():
        guide = Guide.objects.select_for_update().filter(pk=guide_id).first()
        if guide is None:
            return 0
        passages = guide_passages(guide)
        vectors = embed([p.text for p in passages])
        GuidePassage.objects.filter(guide_id=guide_id).delete()
        GuidePassage.objects.bulk_create(
            GuidePassage(
                guide_id=guide_id,
                position=n,
                public=p.public,
                text=p.text,
                vector=to_bytes(vectors[n]),
            )
            for n, p in enumerate(passages)
        )
        transaction.on_commit(bump_version)
    return len(passages)


def stale_guide_ids(limit: int = 50) -> list[int]:
    """Guides saved since their passages were written, or never embedded: oldest first."""
    return list(
        Guide.objects.annotate(embedded=Max("passages__created_at"))
        .filter(Q(embedded__isnull=True) | Q(embedded__lt=F("modified_at")))
        .order_by("modified_at")
        .values_list("pk", flat=True)[:limit]
    )


@dataclass
class _Index:
    version: int = -1
    # int8 with a scale per passage (`_quantised`): a quarter of the memory of the
    # stored float32, a cosine off by about 1e-3, and widened to float32 several
    # times faster than float16 is when a query scores its candidates' passages.
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, DIMENSIONS), np.int8))
    scales: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    passage_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    positions: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    public: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    guide_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    guide_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    visibility: list[str] = field(default_factory=list)  # per guide row
    tier: list[str] = field(default_factory=list)  # per guide row (members' tier guides)
    # Per guide row: public, so readable by anyone (the rest is asked of the rule).
    open_guides: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    starts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # per guide row
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    centroid_all: np.ndarray = field(default_factory=lambda: np.zeros((0, DIMENSIONS), np.float32))
    centroid_public: np.ndarray = field(
        default_factory=lambda: np.zeros((0, DIMENSIONS), np.float32)
    )


_index = _Index()
_index_lock = threading.Lock()

_LOAD = """
SELECT p.id, p.guide_id, p.position, p.public, p.vector, g.visibility, g.tier
  FROM guides_guidepassage p JOIN guides_guide g ON g.id = p.guide_id
 WHERE g.status = %(published)s AND g.published_at <= now()
 ORDER BY p.guide_id, p.position
"""


# Passages read at a time: at 10,000 guides the vectors alone are 600 MB as
# stored, which one fetch would hold in full beside the matrix being built.
LOAD_BATCH = 20_000


def _load(version: int) -> _Index:
    index = _Index(version=version)
    guide_row: dict[int, int] = {}
    vectors: list[np.ndarray] = []
    scales: list[np.ndarray] = []
    passage_ids: list[int] = []
    positions: list[int] = []
    public: list[bool] = []
    rows_of_passages: list[int] = []
    # A server-side cursor where the database allows one (Django's chunked cursor).
    with connection.chunked_cursor() as cursor:
        cursor.execute(_LOAD, {"published": Guide.Status.PUBLISHED.value})
        while batch := cursor.fetchmany(LOAD_BATCH):
            for pid, gid, position, is_public, _vector, visibility, tier in batch:
                if gid not in guide_row:
                    guide_row[gid] = len(guide_row)
                    index.visibility.append(visibility)
                    index.tier.append(tier)
                rows_of_passages.append(guide_row[gid])
                passage_ids.append(pid)
                positions.append(position)
                public.append(is_public)
            raw = b"".join(bytes(row[4]) for row in batch)
            small, scale = _quantised(from_bytes(raw).reshape(len(batch), DIMENSIONS))
            vectors.append(small)
            scales.append(scale)
    if not passage_ids:
        return index
    index.vectors = np.concatenate(vectors)
    index.scales = np.concatenate(scales)
    index.passage_ids = np.asarray(passage_ids, dtype=np.int64)
    index.positions = np.asarray(positions, dtype=np.int64)
    index.public = np.asarray(public, dtype=bool)
    index.guide_rows = np.asarray(rows_of_passages, dtype=np.int64)
    index.guide_ids = np.fromiter(guide_row, np.int64, len(guide_row))
    _summarise(index)
    return index


def _quantised(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 rows as int8 rows and one scale each: row ~= int8 row * scale."""
    scales = np.abs(vectors).max(axis=1) / 127
    scales[scales == 0] = 1.0
    return np.rint(vectors / scales[:, None]).astype(np.int8), scales.astype(np.float32)


# Guides whose passages are widened to float32 at a time to sum their centroids.
SUMMARY_CHUNK = 2_000


def _normalised(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (rows / norms).astype(np.float32)


def _summarise(index: _Index) -> None:
    """Per guide: where its passages are (rows are ordered by guide) and its centroids."""
    guides = len(index.guide_ids)
    index.open_guides = np.fromiter(
        (v == Guide.Visibility.PUBLIC for v in index.visibility), bool, len(index.visibility)
    )
    index.counts = np.bincount(index.guide_rows, minlength=guides).astype(np.int64)
    index.starts = np.concatenate(([0], np.cumsum(index.counts)[:-1])).astype(np.int64)
    every = np.zeros((guides, DIMENSIONS), np.float32)
    public = np.zeros((guides, DIMENSIONS), np.float32)
    for first in range(0, guides, SUMMARY_CHUNK):
        last = min(first + SUMMARY_CHUNK, guides)
        low = int(index.starts[first])
        high = int(index.starts[last - 1] + index.counts[last - 1])
        chunk = index.vectors[low:high].astype(np.float32) * index.scales[low:high, None]
        offsets = index.starts[first:last] - low
        every[first:last] = np.add.reduceat(chunk, offsets, axis=0)
        chunk[~index.public[low:high]] = 0.0
        public[first:last] = np.add.reduceat(chunk, offsets, axis=0)
    index.centroid_all = _normalised(every)
    index.centroid_public = _normalised(public)


def passage_index() -> _Index:
    """This process's matrix of passages, reloaded when the content version moves."""
    global _index
    version = current_version()
    if _index.version != version:
        with _index_lock:
            if _index.version != version:
                _index = _load(version)
    return _index


def _readable_guides(index: _Index, rights: ReadingRights) -> np.ndarray:
    """Per guide row: may this reader read it in full? Asked of the one rule."""
    readable = index.open_guides.copy()
    for row in np.flatnonzero(~readable):
        readable[row] = rights.can_read(
            index.visibility[row], int(index.guide_ids[row]), index.tier[row]
        )
    return readable


@dataclass(frozen=True)
class SemanticHit:
    guide_id: int
    passage_id: int
    position: int
    similarity: float


def semantic_ranking(
    text: str, rights: ReadingRights, depth: int = SEMANTIC_DEPTH
) -> list[SemanticHit]:
    """Guides nearest the text in what the reader may see of them, best first."""
    index = passage_index()
    if not len(index.passage_ids):
        return []
    query = embed([text])[0]
    if not query.any():
        return []
    return nearest(index, query, _readable_guides(index, rights), depth)


def nearest(
    index: _Index, query: np.ndarray, readable: np.ndarray, depth: int
) -> list[SemanticHit]:
    """The `depth` best guides for a query vector; `readable` per guide row.

    A passage counts only if it is public or its guide readable; a guide's
    centroid is that of the passages that count. The candidates' passages are
    scored in one product, not guide by guide: at 10,000 guides the loop cost
    more than the arithmetic.
    """
    centroid = np.where(readable, index.centroid_all @ query, index.centroid_public @ query)
    reach = min(len(centroid), CANDIDATE_GUIDES)
    candidates = np.argpartition(-centroid, reach - 1)[:reach]
    counts = index.counts[candidates]
    firsts = index.starts[candidates]
    # Each candidate's passages are contiguous rows: their row numbers, in one array.
    segment_starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    rows = np.repeat(firsts - segment_starts, counts) + np.arange(int(counts.sum()))
    scores = (index.vectors[rows].astype(np.float32) @ query) * index.scales[rows]
    allowed = index.public[rows] | np.repeat(readable[candidates], counts)
    scores[~allowed] = -1.0
    segment = np.repeat(np.arange(len(candidates)), counts)
    # Per candidate: its best passage (the first of equals) and its head (title or summary).
    order = np.lexsort((-scores, segment))
    best_rows = order[segment_starts]
    best = scores[best_rows]
    second = np.where(counts > 1, scores[np.minimum(segment_starts + 1, len(scores) - 1)], -1.0)
    head = np.maximum(scores[segment_starts], second)
    score = (1 - HEAD_SHARE) * (
        BEST_PASSAGE_SHARE * best + (1 - BEST_PASSAGE_SHARE) * centroid[candidates]
    ) + HEAD_SHARE * head
    kept = np.flatnonzero(best >= MIN_SIMILARITY)
    kept = kept[np.argsort(-score[kept], kind="stable")][:depth]
    return [
        SemanticHit(
            int(index.guide_ids[candidates[n]]),
            int(index.passage_ids[rows[best_rows[n]]]),
            int(index.positions[rows[best_rows[n]]]),
            float(score[n]),
        )
        for n in kept
    ]


def similar_guides(guide: Guide, limit: int = 3) -> list[int]:
    """Ids of the published guides nearest this one ("more like this"), best first.

    Compared on what anyone may read (public passages), so the list is the same
    for every reader and can be cached; each guide's centroid of public passages
    against the others'.
    """
    index = passage_index()
    mine = np.flatnonzero(index.guide_ids == guide.pk)
    if not len(mine) or not index.centroid_public[mine[0]].any():
        return []
    scores = index.centroid_public @ index.centroid_public[mine[0]]
    scores[mine[0]] = -2.0
    order = np.argsort(-scores, kind="stable")[:limit]
    return [int(index.guide_ids[row]) for row in order if scores[row] > -2.0]
