"""Benchmarks: ``run_bench(...) -> dict`` measures and reports, it never asserts a timing.

Five parts, all in one process except the cold start (and the burners):

* ``warm_query``: the whole chain (``Assistant.ask``) on the gold questions, and in
  the same loop the query embedding alone, p50/p95 and their ratio;
* ``contention``: the same, idle and beside a CPU-burning process on every core, with
  the settings' query threads and with torch's default (one per core);
* ``cold_start``: a fresh Python process that imports the package, loads an existing
  index and answers one question (process start to answer);
* ``index_build``: ``build_index`` throughput in chunks/s against ``model.encode``
  alone on the same texts, on the bundled corpus and on a larger synthetic one;
* ``scale``: ``scale`` synthetic statements generated from the guideline's own
  vocabulary; build time, index size, resident memory, and query latency with a flat
  and an HNSW FAISS index, with HNSW's recall against flat on the same vectors, and
  the whole hybrid retrieval (BM25 + FAISS + fusion) over all of them.

The quick default (:data:`QUICK`, about two minutes) and the full run (:data:`FULL`) differ
only in sizes and repeats. Every figure is also reported as one line as soon as its part is
done, because a ten-minute run that prints nothing until the end shows nothing when stopped.

The contention part lives in :mod:`assistant.evaluation.bench_contention`, the next three
in :mod:`assistant.evaluation.bench_queries`, the scale test (and
why most of its vectors may be recombined rather than embedded) in
:mod:`assistant.evaluation.bench_scale`, the synthetic statements in
:mod:`assistant.evaluation.bench_synthetic`. This module runs them in order and
records the environment the figures were taken in.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import faiss

from assistant.evaluation.bench_measure import load_average, peak_rss_mib
from assistant.evaluation.bench_queries import cold_start, index_build, warm_query
from assistant.evaluation.bench_scale import scale_test
from assistant.evaluation.bench_synthetic import synthetic_statements
from assistant.settings import PROJECT_ROOT, Settings

DEFAULT_SCALE = 100_000
DEFAULT_EMBED_SAMPLE = 2_000
DEFAULT_EMBED_BUDGET_S = 120.0
FALLBACK_QUESTIONS = (
    "What dose of IVIG should I use in warm AIHA?",
    "What is the first-line treatment for warm autoimmune hemolytic anemia?",
    "Which second-line options exist for steroid-refractory AIHA?",
    "How is rituximab dosed in refractory cases?",
)
# The quick default finishes in about two minutes on two busy cores; ``--full`` is the long run.
QUICK: dict[str, Any] = {
    "scale": 10_000,
    "embed_sample": 100,
    "embed_budget_s": 0.0,
    "rounds": 1,
    "cold_runs": 1,
    "build_repeats": 1,
    "max_questions": 16,
}
FULL: dict[str, Any] = {
    "scale": DEFAULT_SCALE,
    "embed_sample": DEFAULT_EMBED_SAMPLE,
    "embed_budget_s": DEFAULT_EMBED_BUDGET_S,
    "rounds": 2,
    "cold_runs": 2,
    "build_repeats": 3,
    "max_questions": None,
}

Notify = Callable[[str], None]


def preset(full: bool = False, **given: Any) -> dict[str, Any]:
    """The keyword arguments of :func:`run_bench` for the quick default or the full run; ``given`` ones win unless None."""
    return {**(FULL if full else QUICK), **{key: value for key, value in given.items() if value is not None}}


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
    max_questions: int | None = None,
    with_contention: bool = True,
    seed: int = 0,
    notify: Notify | None = None,
    figure: Notify | None = None,
) -> dict[str, Any]:
    """Run every benchmark and return the figures (JSON-ready).

    ``notify`` gets a line when a part starts; ``figure`` gets one line per figure as soon as
    its part is done (``warm_query.chain_ms.p50 = 21.3``), so a long run shows what it found
    even when stopped.
    """
    for name, value in (("scale", scale), ("embed_sample", embed_sample), ("rounds", rounds)):
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")
    if cold_runs < 0 or build_repeats < 1:
        raise ValueError(f"cold_runs must be >= 0 and build_repeats >= 1, got {cold_runs} and {build_repeats}")
    say = notify or (lambda message: None)
    settings = settings or Settings()
    questions = list(questions) if questions else _gold_questions()
    questions = questions[:max_questions] if max_questions else questions
    started = time.perf_counter()
    report: dict[str, Any] = {"environment": _environment(settings)}

    def part(name: str, value: Any) -> None:
        report[name] = value
        report_figures(name, value, figure)

    from assistant.assistant import Assistant

    say("Loading the assistant (building the index if needed)")
    assistant = Assistant.load(settings=settings)
    report_figures("environment", report["environment"], figure)
    say(f"Warm queries: {len(questions)} questions x {rounds} rounds")
    part("warm_query", warm_query(assistant, questions, rounds))
    if with_contention:
        from assistant.evaluation.bench_contention import contention

        part("contention", contention(assistant, settings, questions, rounds, say))
    say(f"Cold start: {cold_runs} fresh process(es)")
    part("cold_start", cold_start(settings, questions[0], cold_runs))
    statements = synthetic_statements([chunk.text for chunk in assistant.searcher.chunks], scale, seed)
    say(f"Index build throughput (bundled corpus x {build_repeats}, synthetic corpus of {min(embed_sample, scale)})")
    build, sample_vectors = index_build(assistant, settings, statements[: min(embed_sample, scale)], build_repeats)
    part("index_build", build)
    say(f"Scale: {scale} synthetic statements")
    sample_seconds = report["index_build"]["sample_embedding"]["seconds"]
    part(
        "scale",
        scale_test(assistant, statements, sample_vectors, sample_seconds, questions, embed_budget_s, seed, say),
    )
    report["environment"]["load_average_end"] = load_average()
    report["environment"]["peak_rss_mib"] = round(peak_rss_mib(), 1)
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    report_figures("end", {key: report["environment"][key] for key in ("load_average_end", "peak_rss_mib")}, figure)
    report_figures("bench_seconds", report["bench_seconds"], figure)
    return report


def report_figures(path: str, value: Any, figure: Notify | None) -> None:
    """One ``a.b.c = value`` line per leaf of a part's figures (lists of numbers stay on one line)."""
    if figure is None:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            report_figures(f"{path}.{key}", child, figure)
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for number, child in enumerate(value):
            report_figures(f"{path}[{number}]", child, figure)
    else:
        figure(f"{path} = {value}")


def _environment(settings: Settings) -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "query_threads": settings.query_threads,
        "build_threads": settings.build_threads or os.cpu_count(),
        "faiss": faiss.__version__,
        "model": settings.model,
        "load_average_start": load_average(),
    }


def _gold_questions() -> list[str]:
    path = PROJECT_ROOT / "evals" / "gold.jsonl"
    if path.is_file():
        from assistant.evaluation.gold import load_gold

        return [item.question for item in load_gold(path)]
    return list(FALLBACK_QUESTIONS)
