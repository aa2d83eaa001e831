"""Choose the hybrid search's constants on the tuning queries of bench/search_eval.yaml.

    python -m bench.search_tune        (after bench.search_quality has loaded the corpus)

Every combination of the grid below is scored on the tuning queries alone (top-3
rate, then MRR); the held-out figures are printed beside each but never used to
choose. The SQL rankings do not depend on the constants, so they are asked once
per query and kept; the semantic side runs afresh for each combination.
"""

from __future__ import annotations

import functools
import itertools
import sys
from typing import Any

from bench.common import setup_django
from bench.search_quality import EVAL, HELD_OUT, evaluate, load_corpus

GRID: dict[str, tuple[str, list[float]]] = {
    "ANY_WORD_WEIGHT": ("guides.hybrid", [0.5, 0.8, 1.2]),
    "RRF_K": ("guides.hybrid", [10, 20, 40, 60]),
    "SEMANTIC_WEIGHT": ("guides.hybrid", [1.5, 2.0, 3.0, 4.0]),
    "HEAD_SHARE": ("guides.semantic", [0.15, 0.35]),
    "BEST_PASSAGE_SHARE": ("guides.semantic", [0.3, 0.6]),
    "MIN_SIMILARITY": ("guides.semantic", [0.2, 0.3]),
}


def main() -> int:
    import importlib

    import yaml

    setup_django()
    from coaching.pagecache import bump_version
    from guides import hybrid

    load_corpus()
    bump_version()

    # The SQL rankings and the spelling correction, asked once per distinct input.
    hybrid._text_ranking = functools.lru_cache(maxsize=None)(hybrid._text_ranking)  # type: ignore[assignment]
    any_word = hybrid._any_word_ranking
    hybrid._any_word_ranking = lambda q, c: list(_cached_any(q, tuple(c)))  # type: ignore[assignment]
    _cached_any = functools.lru_cache(maxsize=None)(lambda q, c: tuple(any_word(q, list(c))))
    hybrid.correct_spelling = functools.lru_cache(maxsize=None)(hybrid.correct_spelling)  # type: ignore[assignment]

    from guides import semantic

    embed = semantic.embed
    vectors = functools.lru_cache(maxsize=None)(lambda text: embed([text]))
    semantic.embed = lambda texts: vectors(texts[0]) if len(texts) == 1 else embed(texts)  # type: ignore[assignment]

    queries = yaml.safe_load(EVAL.read_text())["queries"]
    names = list(GRID)
    rows: list[tuple[Any, ...]] = []
    for values in itertools.product(*(GRID[name][1] for name in names)):
        for name, value in zip(names, values, strict=True):
            setattr(importlib.import_module(GRID[name][0]), name, value)
        scores = evaluate(queries, "hybrid", quiet=True)
        held = scores["held_out_all"]
        rows.append(
            (scores["overall"]["top3"], scores["overall"]["mrr"], held["top3"], held["mrr"], values)
        )
    rows.sort(key=lambda row: (-row[0], -row[1]))
    print("tuned top3, tuned MRR, held-out top3, held-out MRR:", ", ".join(names))
    for row in rows[:40]:
        print(f"{row[0]:.1f} {row[1]:.3f} | {row[2]:.1f} {row[3]:.3f} | {row[4]}")
    print(f"# {len(rows)} combinations; held-out groups: {sorted(HELD_OUT.values())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
