"""Sentence embeddings of guides, computed here from a model that ships in a package.

The model is WordLlama's `l2_supercat` at 256 dimensions (MIT licence): one
static vector per token of the Llama 2 tokenizer, averaged over a text. Its
weights (16 MB) and tokenizer come inside the `wordllama` wheel; this module
reads those two files itself, with `tokenizers`, `safetensors` and numpy, so
nothing is ever downloaded (the package's own loader looks for the tokenizer
in the wrong folder and then goes to the network) and none of its import-time
logging set-up runs. Loaded once per process, on first use (about 0.2 s).

Everything the rest of the site needs is `embed(texts)`: unit float32 rows.
"""

from __future__ import annotations

import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "WordLlama l2_supercat (256 dimensions)"
DIMENSIONS = 256
# Words that carry the shape of a question, not its topic: left out of every
# average so that "how do I ..." does not pull every question toward the guides
# that happen to be written as questions (issue 19).
STOPWORDS = frozenset(
    """a an the and or but if then so of to in on at by for from with about into over
    as is are was were be been being am do does did doing have has had having can
    could should would will shall may might must i me my we our you your he she it
    its they them their this that these those what which who whom whose when where
    why how there here not no yes any some all more most much many very just also
    than too get got make want need know like one way good best really thing things
    s t don ll ve re d m""".split()  # noqa: SIM905 - reads as the word list it is
)
PASSAGE_WORDS = 120  # words a body chunk holds (more for long guides, see MAX_CHUNKS)
MAX_CHUNKS = 60  # body chunks a guide gets at most: long guides get longer chunks


@dataclass
class _Model:
    table: np.ndarray  # (vocabulary, DIMENSIONS) float16: half the memory of float32
    tokenizer: Any
    weight: np.ndarray  # (vocabulary,) float32: 0 for stopwords and punctuation


_model: _Model | None = None
_lock = threading.Lock()


def _package_dir() -> Path:
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the wordllama package is not installed (see requirements.lock)")
    return Path(next(iter(spec.submodule_search_locations)))


def _load() -> _Model:
    from safetensors import safe_open
    from tokenizers import Tokenizer

    folder = _package_dir()
    with safe_open(str(folder / "weights" / "l2_supercat_256.safetensors"), "np") as f:
        table = f.get_tensor("embedding.weight").astype(np.float16)
    tokenizer = Tokenizer.from_file(
        str(folder / "tokenizers" / "l2_supercat_tokenizer_config.json")
    )
    tokenizer.no_padding()
    tokenizer.no_truncation()
    weight = np.ones(table.shape[0], dtype=np.float32)
    for token, index in tokenizer.get_vocab().items():
        word = token.replace("\u2581", "").lower()
        if index < len(weight) and (word in STOPWORDS or not any(c.isalnum() for c in word)):
            weight[index] = 0.0
    return _Model(table=table, tokenizer=tokenizer, weight=weight)


def model() -> _Model:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _load()
    return _model


def embed(texts: list[str]) -> np.ndarray:
    """One unit-length float32 row per text (zeros for a text of stopwords only)."""
    m = model()
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return out
    for row, encoding in enumerate(m.tokenizer.encode_batch(texts, add_special_tokens=False)):
        ids = np.asarray(encoding.ids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < len(m.weight))]
        if not len(ids):
            continue
        weights = m.weight[ids]
        if not weights.any():  # a text of stopwords only: better than nothing
            weights = np.ones(len(ids), dtype=np.float32)
        vector = weights @ m.table[ids].astype(np.float32)
        norm = float(np.linalg.norm(vector))
        if norm:
            out[row] = vector / norm
    return out


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
