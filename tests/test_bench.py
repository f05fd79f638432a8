"""The benchmark: it runs in a tiny configuration and reports figures of the right shape; no timing is asserted."""

from __future__ import annotations

import json
import os
import re
import time

import numpy as np
import pytest

from assistant.evaluation.bench import preset, report_figures, run_bench
from assistant.evaluation.bench_contention import cpu_burners
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
    lines: list[str] = []
    report = run_bench(
        settings,
        scale=2000,
        embed_sample=60,
        embed_budget_s=0.0,
        rounds=1,
        cold_runs=1,
        build_repeats=1,
        questions=["What dose of IVIG should I use in warm AIHA?", "Which second-line options exist?", "rituximab?"],
        figure=lines.append,
        notify=lines.append,
    )
    json.dumps(report)  # JSON-ready all the way down
    print(json.dumps(report, indent=2))  # measured figures are printed, never asserted
    assert set(report) == {
        "environment",
        "warm_query",
        "contention",
        "cold_start",
        "index_build",
        "scale",
        "bench_seconds",
    }
    # figures arrive part by part: the warm latency is reported before the scale test starts
    first_warm = next(i for i, line in enumerate(lines) if line.startswith("warm_query.chain_ms.p50 = "))
    assert first_warm < lines.index("Scale: 2000 synthetic statements")
    assert any(line.startswith("scale.flat.search_ms.p50 = ") for line in lines)

    contention = report["contention"]
    assert contention["burners"] == (os.cpu_count() or 1)
    for name in [key for key in contention if key.startswith(("query_threads_", "torch_default_threads_"))]:
        for phase in ("idle", "loaded"):
            assert set(contention[name][phase]) == {"chain_p50_ms", "chain_p95_ms", "embed_p50_ms", "queries"}
        assert "loaded_over_idle_chain_p50" in contention[name]
    assert "query_threads_1" in contention

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


def test_figures_are_one_line_each_as_the_part_finishes() -> None:
    lines: list[str] = []
    report_figures(
        "warm_query", {"chain_ms": {"p50": 21.3, "p95": 30.0}, "queries": 3, "samples": [{"a": 1}]}, lines.append
    )
    assert lines == [
        "warm_query.chain_ms.p50 = 21.3",
        "warm_query.chain_ms.p95 = 30.0",
        "warm_query.queries = 3",
        "warm_query.samples[0].a = 1",
    ]


def test_quick_default_is_smaller_than_the_full_run() -> None:
    quick, full = preset(), preset(full=True)
    assert set(quick) == set(full)
    assert quick["scale"] < full["scale"] and quick["embed_sample"] < full["embed_sample"]
    assert quick["cold_runs"] <= full["cold_runs"] and quick["build_repeats"] < full["build_repeats"]
    assert quick["max_questions"] is not None and full["max_questions"] is None
    assert preset(scale=5, rounds=None)["scale"] == 5 and preset(scale=5, rounds=None)["rounds"] == quick["rounds"]


def test_cpu_burners_run_during_the_block_and_are_gone_after() -> None:
    import psutil

    with cpu_burners(2) as pids:
        assert len(pids) == 2
        assert all(psutil.Process(pid).is_running() for pid in pids)
        processes = [psutil.Process(pid) for pid in pids]
        before = [sum(p.cpu_times()[:2]) for p in processes]
        time.sleep(1.0)
        used = [sum(p.cpu_times()[:2]) - start for p, start in zip(processes, before, strict=True)]
        assert all(seconds > 0.02 for seconds in used), used  # still burning after start-up (a sleeper uses ~0)
    assert not any(psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE for pid in pids)


def test_questions_use_query_threads_in_any_thread_and_a_batch_restores_them(embedder) -> None:
    """torch keeps the thread count per OS thread: a session thread that ran at 2 must encode at 1."""
    import threading

    import torch

    from assistant.index.embeddings import set_thread_policy, thread_policy

    seen: list[int] = []

    def session() -> None:
        torch.set_num_threads(2)  # whatever this thread was left with before
        embedder.encode_query("IVIG dose?")
        seen.append(torch.get_num_threads())
        embedder.encode(["first statement", "second statement", "third"], batch_size=2)
        seen.append(torch.get_num_threads())

    set_thread_policy(1, 2)
    try:
        worker = threading.Thread(target=session)
        worker.start()
        worker.join()
        assert seen == [1, 1]
        assert thread_policy().build_count == 2
        set_thread_policy(1, None)
        assert thread_policy().build_count == (os.cpu_count() or 1)
    finally:
        set_thread_policy(1, None)


_FAIL_FAST_CHILD = """
import sys
from typer.testing import CliRunner
from assistant.cli import app
from assistant import Assistant
from assistant.errors import CorpusError
corpus, index = sys.argv[1], sys.argv[2]
result = CliRunner().invoke(app, ["ask", "IVIG dose?", "--corpus", corpus, "--index", index])
try:
    Assistant.load(corpus, index)
    raised = ""
except CorpusError as exc:
    raised = str(exc)
heavy = sorted(name for name in ("torch", "transformers", "sentence_transformers") if name in sys.modules)
print(result.exit_code, "|", result.stderr.strip(), "|", raised, "|", ",".join(heavy))
"""


@pytest.mark.parametrize("files", [None, {}, {"empty.txt": "", "notes.docx": "x"}])
def test_an_unusable_corpus_is_refused_before_the_model_is_imported(tmp_path, files) -> None:
    """Cold start: a missing or empty corpus is said at once; torch and the model are never imported."""
    import subprocess
    import sys

    corpus = tmp_path / "corpus"
    if files is not None:
        corpus.mkdir()
        for name, text in files.items():
            (corpus / name).write_text(text, encoding="utf-8")
    child = [sys.executable, "-c", _FAIL_FAST_CHILD, str(corpus), str(tmp_path / "index")]
    out = subprocess.run(child, capture_output=True, text=True, timeout=300, check=True).stdout.strip()
    code, message, raised, heavy = (part.strip() for part in out.split("|"))
    assert code == "1" and message.startswith("Error:") and len(message.splitlines()) == 1
    assert raised and raised in " ".join(message.split())
    assert heavy == ""
    assert not (tmp_path / "index").exists()
