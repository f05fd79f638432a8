"""Benchmarks: ``run_bench(...) -> dict`` measures and reports, it never asserts a timing.

Four parts, all in one process except the cold start:

* ``warm_query``: the whole chain (``Assistant.ask``) on the gold questions, and in
  the same loop the query embedding alone, p50/p95 and their ratio;
* ``cold_start``: a fresh Python process that imports the package, loads an existing
  index and answers one question (process start to answer);
* ``index_build``: ``build_index`` throughput in chunks/s against ``model.encode``
  alone on the same texts, on the bundled corpus and on a larger synthetic one;
* ``scale``: ``scale`` synthetic statements generated from the guideline's own
  vocabulary; build time, index size, resident memory, and query latency with a flat
  and an HNSW FAISS index, with HNSW's recall against flat on the same vectors, and
  the whole hybrid retrieval (BM25 + FAISS + fusion) over all of them.

Embedding 100,000 statements on two CPU cores takes far longer than a benchmark
should, so only ``embed_sample`` statements are embedded with the real model unless
the whole set fits in ``embed_budget_s`` at the measured rate. The rest of the
vectors are then sums of two or three real sample vectors, re-normalized; every
figure obtained that way, and every extrapolated time, is labelled as such in the
output (``"method"``, ``"extrapolated"``).
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from assistant.settings import PROJECT_ROOT, Settings

DEFAULT_SCALE = 100_000
DEFAULT_EMBED_SAMPLE = 2_000
DEFAULT_EMBED_BUDGET_S = 120.0
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = (16, 64, 128)
FALLBACK_QUESTIONS = (
    "What dose of IVIG should I use in warm AIHA?",
    "What is the first-line treatment for warm autoimmune hemolytic anemia?",
    "Which second-line options exist for steroid-refractory AIHA?",
    "How is rituximab dosed in refractory cases?",
)

Notify = Callable[[str], None]


def run_bench(
    settings: Settings | None = None,
    *,
    scale: int = DEFAULT_SCALE,
    embed_sample: int = DEFAULT_EMBED_SAMPLE,
    embed_budget_s: float = DEFAULT_EMBED_BUDGET_S,
    rounds: int = 2,
    cold_runs: int = 2,
    build_repeats: int = 3,
    questions: Sequence[str] | None = None,
    seed: int = 0,
    notify: Notify | None = None,
) -> dict[str, Any]:
    """Run every benchmark and return the figures (JSON-ready); ``notify`` gets progress lines."""
    for name, value in (("scale", scale), ("embed_sample", embed_sample), ("rounds", rounds)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if cold_runs < 0 or build_repeats < 1:
        raise ValueError(f"cold_runs must be >= 0 and build_repeats >= 1, got {cold_runs} and {build_repeats}")
    say = notify or (lambda message: None)
    settings = settings or Settings()
    questions = list(questions) if questions else _gold_questions()
    started = time.perf_counter()
    report: dict[str, Any] = {"environment": _environment(settings)}

    from assistant.assistant import Assistant

    say("Loading the assistant (building the index if needed)")
    assistant = Assistant.load(settings=settings)
    say(f"Warm queries: {len(questions)} questions x {rounds} rounds")
    report["warm_query"] = warm_query(assistant, questions, rounds)
    say(f"Cold start: {cold_runs} fresh process(es)")
    report["cold_start"] = cold_start(settings, questions[0], cold_runs)
    statements = synthetic_statements([chunk.text for chunk in assistant.searcher.chunks], scale, seed)
    say(f"Index build throughput (bundled corpus x {build_repeats}, synthetic corpus of {min(embed_sample, scale)})")
    report["index_build"], sample_vectors = index_build(
        assistant, settings, statements[: min(embed_sample, scale)], build_repeats
    )
    say(f"Scale: {scale} synthetic statements")
    sample_seconds = report["index_build"]["sample_embedding"]["seconds"]
    report["scale"] = scale_test(
        assistant, statements, sample_vectors, sample_seconds, questions, embed_budget_s, seed, say
    )
    report["environment"]["load_average_end"] = _load_average()
    report["environment"]["peak_rss_mib"] = round(_peak_rss_mib(), 1)
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    return report


# --------------------------------------------------------------------------- warm and cold queries


def warm_query(assistant: Any, questions: Sequence[str], rounds: int) -> dict[str, Any]:
    """Whole-chain latency and query-embedding latency, interleaved in one loop over the same questions."""
    searcher = assistant.searcher
    for question in questions[:3]:  # first calls pay for lazy imports and allocator growth
        assistant.ask(question)
    chain: list[float] = []
    embed: list[float] = []
    for _ in range(rounds):
        for question in questions:
            started = time.perf_counter()
            assistant.ask(question)
            chain.append((time.perf_counter() - started) * 1000)
            text = searcher.normalizer.expand(question)
            started = time.perf_counter()
            searcher.embedder.encode_query(text)
            embed.append((time.perf_counter() - started) * 1000)
    chain_p50, embed_p50 = _pct(chain, 50), _pct(embed, 50)
    return {
        "queries": len(chain),
        "chain_ms": {"p50": chain_p50, "p95": _pct(chain, 95), "mean": round(float(np.mean(chain)), 2)},
        "embed_ms": {"p50": embed_p50, "p95": _pct(embed, 95), "mean": round(float(np.mean(embed)), 2)},
        "chain_over_embed_p50": round(chain_p50 / embed_p50, 2) if embed_p50 else None,
        "note": "chain = Assistant.ask (retrieval, selection, composition, guardrail); embed = encode_query alone",
    }


_COLD_CHILD = """
import json, sys, time
t0 = time.perf_counter()
from assistant import Assistant
t1 = time.perf_counter()
a = Assistant.load(sys.argv[1], sys.argv[2])
t2 = time.perf_counter()
answer = a.ask(sys.argv[3])
t3 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "load_s": t2 - t1, "first_ask_s": t3 - t2, "abstained": answer.abstained}), flush=True)
"""


def cold_start(settings: Settings, question: str, runs: int) -> dict[str, Any]:
    """Process start to printed answer, with the index already built (the OS file cache is warm)."""
    samples: list[dict[str, float]] = []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    for _ in range(runs):
        command = [sys.executable, "-c", _COLD_CHILD, str(settings.corpus_dir), str(settings.index_dir), question]
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = process.stdout.readline() if process.stdout else ""
        to_answer = time.perf_counter() - started
        _, errors = process.communicate(timeout=600)
        if process.returncode != 0 or not line.strip():
            raise RuntimeError(f"cold-start child failed ({process.returncode}): {errors.strip()[-500:]}")
        child = json.loads(line)
        samples.append(
            {
                "process_start_to_answer_s": round(to_answer, 3),
                **{k: round(v, 3) for k, v in child.items() if k != "abstained"},
            }
        )
    if not samples:
        return {"runs": 0}
    walls = [sample["process_start_to_answer_s"] for sample in samples]
    return {
        "runs": len(samples),
        "process_start_to_answer_s": {
            "median": round(float(np.median(walls)), 3),
            "min": min(walls),
            "max": max(walls),
        },
        "samples": samples,
        "note": "fresh interpreter, existing index, warm OS file cache; import_s includes torch and sentence-transformers",
    }


# --------------------------------------------------------------------------- index build


def index_build(
    assistant: Any, settings: Settings, sample: Sequence[str], repeats: int
) -> tuple[dict[str, Any], np.ndarray]:
    """build_index chunks/s against encode-alone chunks/s, on the bundled corpus and on a synthetic one.

    Returns the figures and the synthetic sample's real embeddings (reused by the scale test).
    The model is already loaded in both measurements: loading it is a cold-start cost.
    """
    from assistant.index.store import build_index

    embedder = assistant.searcher.embedder
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        bundled = settings.with_overrides(index_dir=Path(tmp) / "bundled")
        result["bundled_corpus"] = _build_vs_encode(bundled, embedder, repeats, build_index)

        corpus_dir = Path(tmp) / "synthetic-corpus"
        corpus_dir.mkdir()
        (corpus_dir / "synthetic.txt").write_text(synthetic_guideline(sample), encoding="utf-8")
        synthetic = settings.with_overrides(corpus_dir=corpus_dir, index_dir=Path(tmp) / "synthetic")
        result["synthetic_corpus"] = _build_vs_encode(synthetic, embedder, 1, build_index)
    # Embeddings of the sample statements themselves (not their search_text with a section path).
    started = time.perf_counter()
    vectors = embedder.encode(list(sample), batch_size=settings.batch_size)
    seconds = time.perf_counter() - started
    result["sample_embedding"] = {
        "statements": len(sample),
        "seconds": round(seconds, 3),
        "per_second": round(len(sample) / seconds, 1) if seconds else None,
    }
    return result, vectors


def _build_vs_encode(
    settings: Settings, embedder: Any, repeats: int, build_index: Callable[..., Any]
) -> dict[str, Any]:
    builds: list[float] = []
    loaded = None
    for _ in range(repeats):
        shutil.rmtree(settings.index_dir, ignore_errors=True)
        started = time.perf_counter()
        loaded = build_index(settings, embedder)
        builds.append(time.perf_counter() - started)
    assert loaded is not None
    texts = [chunk.search_text for chunk in loaded.chunks]
    encodes: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        embedder.encode(texts, batch_size=settings.batch_size)
        encodes.append(time.perf_counter() - started)
    build_s, encode_s = float(np.median(builds)), float(np.median(encodes))
    n = len(texts)
    build_rate = n / build_s if build_s else 0.0
    encode_rate = n / encode_s if encode_s else 0.0
    return {
        "chunks": n,
        "repeats": repeats,
        "build_seconds_median": round(build_s, 3),
        "encode_seconds_median": round(encode_s, 3),
        "build_chunks_per_s": round(build_rate, 1),
        "encode_chunks_per_s": round(encode_rate, 1),
        "build_over_encode_throughput": round(build_rate / encode_rate, 3) if encode_rate else None,
    }


# --------------------------------------------------------------------------- synthetic corpus


def synthetic_statements(statements: Sequence[str], count: int, seed: int = 0) -> list[str]:
    """``count`` sentences from a word-bigram chain over the guideline's statements (deterministic per seed).

    Every word comes from the guideline; one word in eight is drawn from its whole
    vocabulary instead of the chain, so that sentences differ from the source.
    """
    rng = random.Random(seed)
    sentences = [re.findall(r"\S+", text) for text in statements if text.strip()]
    if not sentences:
        raise ValueError("no statements to learn a vocabulary from")
    following: dict[str, list[str]] = defaultdict(list)
    for words in sentences:
        for current, nxt in zip(words, words[1:], strict=False):
            following[current].append(nxt)
    starts = [words[0] for words in sentences]
    vocabulary = sorted({word for words in sentences for word in words})
    out: list[str] = []
    for _ in range(count):
        words = [rng.choice(starts)]
        length = rng.randint(10, 36)
        while len(words) < length:
            options = following.get(words[-1])
            words.append(rng.choice(vocabulary) if not options or rng.random() < 0.125 else rng.choice(options))
        text = " ".join(words).rstrip(".,;:")
        out.append(text[:1].upper() + text[1:] + ".")
    return out


def synthetic_guideline(statements: Sequence[str], per_section: int = 40) -> str:
    """The statements as a guideline file: a title, then a heading every ``per_section`` paragraphs."""
    lines = ["Synthetic Guideline For Benchmarks"]
    for index, statement in enumerate(statements):
        if index % per_section == 0:
            lines.append(f"Section {index // per_section + 1} Recommendations")
        lines.append(statement)
    return "\n".join(lines) + "\n"


def _recombined(sample: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` unit vectors, each the normalized sum of 2 or 3 random real sample vectors."""
    parts = rng.integers(0, len(sample), size=(count, 3))
    vectors = sample[parts[:, 0]] + sample[parts[:, 1]]
    third = rng.random(count) < 0.5
    vectors[third] += sample[parts[third, 2]]
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-12
    return np.ascontiguousarray(vectors, dtype=np.float32)


# --------------------------------------------------------------------------- scale


def scale_test(
    assistant: Any,
    statements: list[str],
    sample_vectors: np.ndarray,
    sample_seconds: float,
    questions: Sequence[str],
    embed_budget_s: float,
    seed: int,
    say: Notify,
) -> dict[str, Any]:
    """Flat vs HNSW over ``len(statements)`` vectors, and the hybrid retrieval over all statements."""
    searcher = assistant.searcher
    embedder = searcher.embedder
    n, sample_n = len(statements), len(sample_vectors)
    rss_start = _rss_mib()
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
    before = _rss_mib()
    started = time.perf_counter()
    flat = faiss.IndexFlatIP(dimension)
    flat.add(vectors)
    flat_add = time.perf_counter() - started
    flat_latency = _search_latency(flat, query_vectors, k_candidates)
    _, truth = flat.search(query_vectors, k_candidates)
    result["flat"] = {
        "add_seconds": round(flat_add, 4),
        "bytes": _index_bytes(flat),
        "rss_delta_mib": round(_rss_mib() - before, 1),
        "search_ms": flat_latency,
        "k": k_candidates,
    }

    # ---- HNSW
    say(f"HNSW index (M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION})")
    before = _rss_mib()
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
        "rss_delta_mib": round(_rss_mib() - before, 1),
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
    result["rss_mib"] = {"before": round(rss_start, 1), "after": round(_rss_mib(), 1)}
    return result


def _hybrid_at_scale(
    assistant: Any, statements: list[str], flat: Any, hnsw: Any, questions: Sequence[str]
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
    before = _rss_mib()
    started = time.perf_counter()
    searcher = HybridSearcher(loaded, assistant.searcher.embedder, settings)
    init_seconds = time.perf_counter() - started
    bm25_rss = _rss_mib() - before
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
        latencies[f"search_ms_{name}"] = {"p50": _pct(times, 50), "p95": _pct(times, 95)}
    return {
        "searcher_init_seconds": round(init_seconds, 2),
        "searcher_init_rss_delta_mib": round(bm25_rss, 1),
        "chunks_jsonl_bytes": chunks_bytes,
        **latencies,
        "note": "HybridSearcher.search (query embedding + FAISS + BM25 + fusion) over every synthetic statement",
    }


# --------------------------------------------------------------------------- helpers


def _search_latency(index: Any, queries: np.ndarray, k: int) -> dict[str, float]:
    times: list[float] = []
    for row in range(len(queries)):
        started = time.perf_counter()
        index.search(queries[row : row + 1], k)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50": _pct(times, 50, 3), "p95": _pct(times, 95, 3)}


def _recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    k = min(k, truth.shape[1])
    shares = [len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True)]
    return round(float(np.mean(shares)), 4)


def _index_bytes(index: Any) -> int:
    return int(faiss.serialize_index(index).nbytes)


def _pct(values: Sequence[float], q: float, digits: int = 2) -> float:
    return round(float(np.percentile(values, q)), digits) if values else 0.0


def _rss_mib() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def _load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None


def _environment(settings: Settings) -> dict[str, Any]:
    import torch

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "faiss": faiss.__version__,
        "model": settings.model,
        "load_average_start": _load_average(),
    }


def _gold_questions() -> list[str]:
    path = PROJECT_ROOT / "evals" / "gold.jsonl"
    if path.is_file():
        from assistant.evaluation.gold import load_gold

        return [item.question for item in load_gold(path)]
    return list(FALLBACK_QUESTIONS)
