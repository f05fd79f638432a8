"""The benchmark: it runs in a tiny configuration and reports figures of the right shape; no timing is asserted."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from assistant.evaluation.bench import run_bench
from assistant.evaluation.bench_scale import _recall, _recombined
from assistant.evaluation.bench_synthetic import synthetic_guideline, synthetic_statements

SOURCE = [
    "The standard regimen is prednisone 1 mg/kg/day, tapered slowly over 6-12 months.",
    "The typical IVIG dosing when used is 1 g/kg as a single dose, which may be repeated if necessary.",
]


def test_synthetic_statements_are_deterministic_and_use_only_the_guidelines_words() -> None:
    first = synthetic_statements(SOURCE, 200, seed=3)
    assert first == synthetic_statements(SOURCE, 200, seed=3)
    assert first != synthetic_statements(SOURCE, 200, seed=4)
    assert len(first) == 200 and all(s.endswith(".") and s[0].isupper() for s in first)
    vocabulary = {w.strip(".,;:").lower() for text in SOURCE for w in text.split()}
    used = {w.strip(".,;:").lower() for text in first for w in text.split()}
    assert used <= vocabulary


def test_synthetic_guideline_has_headings_between_statements() -> None:
    text = synthetic_guideline(["First statement here.", "Second one."], per_section=1)
    assert text.splitlines() == [
        "Synthetic Guideline For Benchmarks",
        "Section 1 Recommendations",
        "First statement here.",
        "Section 2 Recommendations",
        "Second one.",
    ]


def test_recombined_vectors_are_unit_length() -> None:
    rng = np.random.default_rng(0)
    sample = rng.normal(size=(20, 8)).astype(np.float32)
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    vectors = _recombined(sample, 100, rng)
    assert vectors.shape == (100, 8) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    ("found", "truth", "k", "expected"),
    [([[1, 2, 3]], [[1, 2, 3]], 3, 1.0), ([[4, 5, 6]], [[1, 2, 3]], 3, 0.0), ([[1, 9, 3]], [[3, 1, 2]], 2, 0.5)],
)
def test_recall_against_flat(found: list[list[int]], truth: list[list[int]], k: int, expected: float) -> None:
    assert _recall(np.array(found), np.array(truth), k) == expected


def test_bad_sizes_are_refused(settings) -> None:
    with pytest.raises(ValueError, match="scale must be >= 1, got 0"):
        run_bench(settings, scale=0)


def _numbers(node: object) -> list[float]:
    if isinstance(node, dict):
        return [n for value in node.values() for n in _numbers(value)]
    if isinstance(node, list):
        return [n for value in node for n in _numbers(value)]
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return [float(node)]
    return []


@pytest.mark.benchmark
def test_bench_tiny_configuration_reports_every_figure(settings, assistant, capsys) -> None:
    report = run_bench(
        settings,
        scale=2000,
        embed_sample=60,
        embed_budget_s=0.0,
        rounds=1,
        cold_runs=1,
        build_repeats=1,
        questions=["What dose of IVIG should I use in warm AIHA?", "Which second-line options exist?", "rituximab?"],
    )
    json.dumps(report)  # JSON-ready all the way down
    print(json.dumps(report, indent=2))  # measured figures are printed, never asserted
    assert set(report) == {"environment", "warm_query", "cold_start", "index_build", "scale", "bench_seconds"}

    warm = report["warm_query"]
    assert warm["queries"] == 3 and set(warm["chain_ms"]) == set(warm["embed_ms"]) == {"p50", "p95", "mean"}
    assert "chain_over_embed_p50" in warm

    cold = report["cold_start"]
    assert cold["runs"] == 1 and {"import_s", "load_s", "first_ask_s"} <= set(cold["samples"][0])

    build = report["index_build"]
    for corpus in ("bundled_corpus", "synthetic_corpus"):
        assert {"build_chunks_per_s", "encode_chunks_per_s", "build_over_encode_throughput"} <= set(build[corpus])
    assert build["bundled_corpus"]["chunks"] == len(assistant.searcher.chunks)
    assert build["sample_embedding"]["statements"] == 60

    scale = report["scale"]
    assert scale["statements"] == 2000
    assert scale["embedding"]["method"].startswith("recombined: 60 statements")
    assert scale["embedding"]["full_seconds_is"].startswith("extrapolated")
    assert scale["build_seconds_total"]["is"].startswith("extrapolated")
    assert scale["flat"]["bytes"] >= 2000 * 384 * 4
    assert scale["hnsw"]["bytes"] > 0
    for sweep in scale["hnsw"]["by_ef_search"].values():
        recalls = [value for key, value in sweep.items() if key.startswith("recall@")]
        assert len(recalls) == 2 and all(0.0 <= value <= 1.0 for value in recalls)
        assert set(sweep["search_ms"]) == {"p50", "p95"}
    hybrid = scale["hybrid_retrieval"]
    assert {"search_ms_flat", "search_ms_hnsw", "searcher_init_seconds", "chunks_jsonl_bytes"} <= set(hybrid)
    assert all(value >= 0 for value in _numbers(report)), "no negative time, size or count"
    assert re.match(r"\d+\.\d+", report["environment"]["python"])
