"""The scale benchmark: flat vs HNSW FAISS, and the whole hybrid retrieval, over many statements.

``scale`` synthetic statements generated from the guideline's own vocabulary; build
time, index size, resident memory, and query latency with a flat and an HNSW FAISS
index, with HNSW's recall against flat on the same vectors, and the whole hybrid
retrieval (BM25 + FAISS + fusion) over all of them.

Embedding 100,000 statements on two CPU cores takes far longer than a benchmark
should, so only ``embed_sample`` statements are embedded with the real model unless
the whole set fits in ``embed_budget_s`` at the measured rate. The rest of the
vectors are then sums of two or three real sample vectors, re-normalized; every
figure obtained that way, and every extrapolated time, is labelled as such in the
output (``"method"``, ``"extrapolated"``).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import faiss
import numpy as np

from assistant.evaluation.bench_measure import pct, rss_mib
from assistant.index.vectors import HNSW_EF_CONSTRUCTION, HNSW_M
from assistant.index.vectors import HNSW_EF_SEARCH as HNSW_EF_SEARCH_BUILT

if TYPE_CHECKING:
    from assistant.assistant import Assistant

HNSW_EF_SEARCH = (16, 64, HNSW_EF_SEARCH_BUILT)  # the last is what an index built above the threshold uses


def scale_test(
    assistant: Assistant,
    statements: list[str],
    sample_vectors: np.ndarray,
    sample_seconds: float,
    questions: Sequence[str],
    embed_budget_s: float,
    seed: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Flat vs HNSW over ``len(statements)`` vectors, and the hybrid retrieval over all statements."""
    searcher = assistant.searcher
    embedder = searcher.embedder
    n, sample_n = len(statements), len(sample_vectors)
    rss_start = rss_mib()
    result: dict[str, Any] = {"statements": n, "unique_statements": len(set(statements))}

    # ---- vectors: real where affordable, recombined otherwise (and said so)
    rate = sample_n / max(sample_seconds, 1e-9)
    full_estimate = n / rate
    if n <= sample_n:
        vectors, method = sample_vectors[:n], "measured: every statement embedded with the real model"
    elif full_estimate <= embed_budget_s:
        say(f"Embedding all {n} statements (estimated {full_estimate:.0f} s)")
        started = time.perf_counter()
        rest = embedder.encode(statements[sample_n:], batch_size=assistant.settings.batch_size)
        measured_rest = time.perf_counter() - started
        vectors = np.vstack([sample_vectors, rest])
        method = "measured: every statement embedded with the real model"
        full_estimate = sample_seconds + measured_rest
    else:
        rng = np.random.default_rng(seed)
        vectors = np.vstack([sample_vectors, _recombined(sample_vectors, n - sample_n, rng)])
        method = (
            f"recombined: {sample_n} statements embedded with the real model; the other {n - sample_n} vectors "
            "are normalized sums of 2-3 of those real vectors (not embeddings of their statements)"
        )
    real_all = method.startswith("measured")
    result["embedding"] = {
        "method": method,
        "sample_statements": sample_n,
        "sample_per_second": round(rate, 1),
        "full_seconds": round(full_estimate, 1),
        "full_seconds_is": "measured" if real_all else "extrapolated from the sample rate",
    }
    dimension = vectors.shape[1]
    query_vectors = embedder.encode([searcher.normalizer.expand(q) for q in questions])
    k_candidates = min(assistant.settings.candidates, n)

    # ---- flat
    say("Flat index")
    before = rss_mib()
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(dimension)
    flat.add(vectors)
    flat_add = time.perf_counter() - started
    flat_latency = _search_latency(flat, query_vectors, k_candidates)
    _, truth = flat.search(query_vectors, k_candidates)
    result["flat"] = {
        "add_seconds": round(flat_add, 4),
        "bytes": _index_bytes(flat),
        "rss_delta_mib": round(rss_mib() - before, 1),
        "search_ms": flat_latency,
        "k": k_candidates,
    }

    # ---- HNSW
    say(f"HNSW index (M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION})")
    before = rss_mib()
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    hnsw.add(vectors)
    hnsw_build = time.perf_counter() - started
    sweeps: dict[str, Any] = {}
    for ef in HNSW_EF_SEARCH:
        hnsw.hnsw.efSearch = max(ef, k_candidates)
        _, found = hnsw.search(query_vectors, k_candidates)
        sweeps[f"ef_search_{hnsw.hnsw.efSearch}"] = {
            "search_ms": _search_latency(hnsw, query_vectors, k_candidates),
            "recall@10_vs_flat": _recall(found, truth, 10),
            f"recall@{k_candidates}_vs_flat": _recall(found, truth, k_candidates),
        }
    result["hnsw"] = {
        "M": HNSW_M,
        "ef_construction": HNSW_EF_CONSTRUCTION,
        "build_seconds": round(hnsw_build, 3),
        "bytes": _index_bytes(hnsw),
        "rss_delta_mib": round(rss_mib() - before, 1),
        "k": k_candidates,
        "by_ef_search": sweeps,
        "queries": len(query_vectors),
    }

    # ---- the whole hybrid retrieval over all statements (BM25 index included)
    say("Hybrid retrieval over all statements (BM25 + FAISS + fusion)")
    result["hybrid_retrieval"] = _hybrid_at_scale(assistant, statements, flat, hnsw, questions)
    result["build_seconds_total"] = {
        "value": round(full_estimate + flat_add + result["hybrid_retrieval"]["searcher_init_seconds"], 1),
        "is": "measured" if real_all else "extrapolated (embedding time at the measured sample rate)",
        "parts": "embedding + FAISS flat add + BM25/vocabulary init (parsing and file writing excluded)",
    }
    result["rss_mib"] = {"before": round(rss_start, 1), "after": round(rss_mib(), 1)}
    return result


def _hybrid_at_scale(
    assistant: Assistant, statements: list[str], flat: Any, hnsw: Any, questions: Sequence[str]
) -> dict[str, Any]:
    from assistant.index.store import LoadedIndex, Manifest
    from assistant.ingest.chunking import Chunk
    from assistant.retrieval.searcher import HybridSearcher

    settings = assistant.settings
    chunks = [
        Chunk(
            id=f"s{i:07d}",
            text=text,
            citations=[],
            source="synthetic.txt",
            title="Synthetic Guideline For Benchmarks",
            section=f"Section {i // 40 + 1} Recommendations",
            context=None,
            start=0,
            end=len(text),
        )
        for i, text in enumerate(statements)
    ]
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        chunks_path = Path(tmp) / "chunks.jsonl"
        with chunks_path.open("w", encoding="utf-8") as handle:
            for chunk in chunks:
                handle.write(chunk.model_dump_json() + "\n")
        chunks_bytes = chunks_path.stat().st_size
    manifest = Manifest(
        tool_version="bench",
        model=settings.model,
        model_dimension=flat.d,
        chunker_version="bench",
        corpus={},
        files={},
        created_at="",
        build_seconds=0.0,
        n_documents=1,
        n_chunks=len(chunks),
    )
    loaded = LoadedIndex(Path("bench-scale"), manifest, chunks, flat)
    before = rss_mib()
    started = time.perf_counter()
    searcher = HybridSearcher(loaded, assistant.searcher.embedder, settings)
    init_seconds = time.perf_counter() - started
    bm25_rss = rss_mib() - before
    latencies: dict[str, Any] = {}
    for name, index in (("flat", flat), ("hnsw", hnsw)):
        loaded.faiss_index = index
        for question in questions[:3]:
            searcher.search(question)
        times: list[float] = []
        for question in questions:
            started = time.perf_counter()
            searcher.search(question)
            times.append((time.perf_counter() - started) * 1000)
        latencies[f"search_ms_{name}"] = {"p50": pct(times, 50), "p95": pct(times, 95)}
    return {
        "searcher_init_seconds": round(init_seconds, 2),
        "searcher_init_rss_delta_mib": round(bm25_rss, 1),
        "chunks_jsonl_bytes": chunks_bytes,
        **latencies,
        "note": "HybridSearcher.search (query embedding + FAISS + BM25 + fusion) over every synthetic statement",
    }


# --------------------------------------------------------------------------- helpers


def _recombined(sample: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` unit vectors, each the normalized sum of 2 or 3 random real sample vectors."""
    parts = rng.integers(0, len(sample), size=(count, 3))
    vectors = sample[parts[:, 0]] + sample[parts[:, 1]]
    third = rng.random(count) < 0.5
    vectors[third] += sample[parts[third, 2]]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    return np.ascontiguousarray(vectors, dtype=np.float32)


def _search_latency(index: Any, queries: np.ndarray, k: int) -> dict[str, float]:
    times: list[float] = []
    for row in range(len(queries)):
        started = time.perf_counter()
        index.search(queries[row : row + 1], k)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50": pct(times, 50, 3), "p95": pct(times, 95, 3)}


def _recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    k = min(k, truth.shape[1])
    shares = [len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)]
    return round(float(np.mean(shares)), 4)


def _index_bytes(index: Any) -> int:
    return int(faiss.serialize_index(index).nbytes)
