"""Benchmarks on the bundled corpus: warm and cold query latency and index-build throughput.

* ``warm_query``: the whole chain (``Assistant.ask``) on the gold questions, and in
  the same loop the query embedding alone, so their ratio shows what the chain adds;
* ``cold_start``: a fresh Python process that imports the package, loads an existing
  index and answers one question (process start to answer);
* ``index_build``: ``build_index`` throughput in chunks/s against ``model.encode``
  alone on the same texts, on the bundled corpus and on a larger synthetic one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.evaluation.bench_measure import pct
from assistant.evaluation.bench_synthetic import synthetic_guideline
from assistant.index.embeddings import set_thread_policy, thread_policy
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.assistant import Assistant


def warm_query(assistant: Assistant, questions: Sequence[str], rounds: int) -> dict[str, Any]:
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
    chain_p50, embed_p50 = pct(chain, 50), pct(embed, 50)
    return {
        "queries": len(chain),
        "chain_ms": {"p50": chain_p50, "p95": pct(chain, 95), "mean": round(float(np.mean(chain)), 2)},
        "embed_ms": {"p50": embed_p50, "p95": pct(embed, 95), "mean": round(float(np.mean(embed)), 2)},
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
    assistant: Assistant, settings: Settings, sample: Sequence[str], repeats: int
) -> tuple[dict[str, Any], np.ndarray]:
    """build_index chunks/s against encode-alone chunks/s, on the bundled corpus and on a synthetic one.

    Returns the figures and the synthetic sample's real embeddings (reused by the scale test).
    The model is already loaded in both measurements: loading it is a cold-start cost.
    """
    from assistant.index.build import build_index

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
        "build_threads": thread_policy().build_count,
        "seconds": round(seconds, 3),
        "per_second": round(len(sample) / seconds, 1) if seconds else None,
    }
    result["sample_embedding_one_thread"] = _one_thread_rate(embedder, list(sample), settings)
    return result, vectors


def _one_thread_rate(embedder: Any, sample: list[str], settings: Settings) -> dict[str, Any]:
    """The same batch encoded with one thread: whether every core (the build default) pays on this machine now."""
    policy = thread_policy()
    set_thread_policy(policy.query, 1)
    try:
        started = time.perf_counter()
        embedder.encode(sample, batch_size=settings.batch_size)
        seconds = time.perf_counter() - started
    finally:
        set_thread_policy(policy.query, policy.build)
    return {
        "statements": len(sample),
        "seconds": round(seconds, 3),
        "per_second": round(len(sample) / seconds, 1) if seconds else None,
    }


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
