"""Vectors already computed, keyed by (model, exact search text), so a rebuild embeds only new text.

The cache lives inside the index folder (so it is written to the staging folder
and swapped in with the rest, never anywhere else): ``embedding-cache.npy`` holds
the float32 vectors, ``embedding-cache.json`` the model, the dimension, one
sha256 of each search text per row, and the sha256 of the ``.npy`` file. A build
reads it, embeds only texts it does not hold (each distinct text once, so a
statement repeated across guidelines costs one encode), and writes a new cache
holding exactly the texts of the new index: entries no statement uses any more are
pruned by that rewrite. ``--full``, a chunker-version bump that keeps a
statement's text, or a moved file therefore re-embed nothing that did not change.

A cache that fails its hash, cannot be parsed, or does not match its own row
count is ignored with a note (the build then embeds everything, which is only
slower); a cache made by another model is not used, silently, because that is
not damage. The vectors are read with ``allow_pickle=False``: data, never code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

CACHE_VECTORS = "embedding-cache.npy"
CACHE_META = "embedding-cache.json"
CACHE_FORMAT = 1

Encode = Callable[[list[str]], np.ndarray]


def text_key(text: str) -> str:
    """The cache key of one exact search text (the model is recorded once for the whole cache)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class EmbeddingCache:
    """The vectors one model gave for a set of texts (empty when there is no usable cache)."""

    model: str
    dimension: int
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    note: str | None = None  # why a cache that was there could not be used

    @classmethod
    def load(cls, folder: Path, model: str, dimension: int) -> EmbeddingCache:
        """The cache stored in ``folder`` for this model; empty (with a note when damaged) otherwise."""
        meta_path, vectors_path = folder / CACHE_META, folder / CACHE_VECTORS
        if not meta_path.is_file() and not vectors_path.is_file():
            return cls(model, dimension)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("model") != model or meta.get("dimension") != dimension:
                return cls(model, dimension)  # another model's vectors: not damage, just not ours
            if meta.get("format") != CACHE_FORMAT or _sha256(vectors_path) != meta.get("vectors_sha256"):
                raise ValueError("its vectors do not match the hash recorded with them")
            vectors = np.load(vectors_path, allow_pickle=False)
            keys = meta.get("keys")
            if not isinstance(keys, list) or vectors.dtype != np.float32 or vectors.shape != (len(keys), dimension):
                raise ValueError("its rows do not match its list of texts")
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            note = (
                f"{CACHE_VECTORS}: the embedding cache in {folder} is damaged ({exc}) and was ignored; "
                "every statement was embedded again and a new cache written."
            )
            return cls(model, dimension, note=note)
        return cls(model, dimension, dict(zip((str(key) for key in keys), vectors, strict=True)))

    def vectors_for(self, texts: list[str], encode: Encode) -> tuple[np.ndarray, int]:
        """Vectors for ``texts`` in order, encoding (once each) the distinct texts not cached; and how many were encoded."""
        keys = [text_key(text) for text in texts]
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self.rows and key not in missing:
                missing[key] = text
        if missing:
            fresh = encode(list(missing.values()))
            self.rows.update(zip(missing, np.asarray(fresh, dtype=np.float32), strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), 0
        return np.vstack([self.rows[key] for key in keys]).astype(np.float32, copy=False), len(missing)

    def save(self, folder: Path, texts: list[str], vectors: np.ndarray) -> None:
        """Write a cache holding exactly these texts' vectors (the index's statements): unused entries are pruned."""
        unique: dict[str, int] = {}
        for row, text in enumerate(texts):
            unique.setdefault(text_key(text), row)
        matrix = np.ascontiguousarray(vectors[list(unique.values())], dtype=np.float32).reshape(-1, self.dimension)
        vectors_path = folder / CACHE_VECTORS
        with vectors_path.open("wb") as handle:
            np.save(handle, matrix, allow_pickle=False)
        meta = {
            "format": CACHE_FORMAT,
            "model": self.model,
            "dimension": self.dimension,
            "vectors_sha256": _sha256(vectors_path),
            "keys": list(unique),
        }
        (folder / CACHE_META).write_text(json.dumps(meta) + "\n", encoding="utf-8")
