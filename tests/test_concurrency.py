"""One Assistant shared by many threads (as in one Streamlit server), and a bounded soak.

Answers are compared without their timings: everything else (quotes, citations,
doses, guardrail flags, abstention) must be identical to the sequential answer.
"""

from __future__ import annotations

import gc
import json
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from assistant.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOLD_QUESTIONS = [json.loads(line)["question"] for line in (PROJECT_ROOT / "evals" / "gold.jsonl").open(encoding="utf-8")]
# A few the gold set does not hold: input errors and markup must behave the same under load.
EXTRA = ["   ", "?!", "<b>IVIG</b> dose?", "What dose of IVIG? " * 3, "x" * 2001]
QUESTIONS = GOLD_QUESTIONS + EXTRA
THREADS = 8
CONCURRENT_QUESTIONS = 400
SOAK_WARMUP, SOAK_QUESTIONS = 100, 600


def _outcome(assistant, question: str) -> str:
    """The answer as JSON without its timings, or the input error's message."""
    try:
        return assistant.ask(question).model_dump_json(exclude={"timings_ms"})
    except InputError as exc:
        return f"InputError: {exc}"


@pytest.fixture(scope="module")
def sequential(assistant) -> dict[str, str]:
    return {question: _outcome(assistant, question) for question in QUESTIONS}


def _run_threaded(assistant, questions: list[str]) -> tuple[list[str], set[int]]:
    used: set[int] = set()

    def work(question: str) -> str:
        used.add(threading.get_ident())
        return _outcome(assistant, question)

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(work, questions)), used


def test_threads_give_the_sequential_answers(assistant, sequential: dict[str, str]) -> None:
    questions = [QUESTIONS[(n * 7) % len(QUESTIONS)] for n in range(80)]
    results, used = _run_threaded(assistant, questions)
    assert len(used) > 1
    mismatched = [q for q, got in zip(questions, results, strict=True) if got != sequential[q]]
    assert not mismatched, mismatched[:3]


@pytest.mark.slow
def test_8_threads_400_questions_match_the_sequential_answers(assistant, sequential: dict[str, str]) -> None:
    # A fixed shuffle so that neighbouring threads ask different questions at the same moment.
    questions = [QUESTIONS[(n * 37 + 11) % len(QUESTIONS)] for n in range(CONCURRENT_QUESTIONS)]
    started = time.perf_counter()
    results, used = _run_threaded(assistant, questions)
    elapsed = time.perf_counter() - started
    assert len(results) == CONCURRENT_QUESTIONS and len(used) == THREADS
    mismatched = [q for q, got in zip(questions, results, strict=True) if got != sequential[q]]
    assert not mismatched, f"{len(mismatched)} answers differ from the sequential ones, e.g. {mismatched[:3]}"
    print(f"\n{CONCURRENT_QUESTIONS} questions on {THREADS} threads in {elapsed:.1f} s, all identical to sequential")


@pytest.mark.slow
def test_soak_memory_stays_flat_and_latency_is_reported(assistant) -> None:
    process = psutil.Process()
    for n in range(SOAK_WARMUP):
        _outcome(assistant, QUESTIONS[n % len(QUESTIONS)])
    gc.collect()
    baseline = process.memory_info().rss
    latencies: list[float] = []
    for n in range(SOAK_QUESTIONS):
        question = QUESTIONS[(n * 13 + 5) % len(QUESTIONS)]
        began = time.perf_counter()
        _outcome(assistant, question)
        latencies.append((time.perf_counter() - began) * 1000)
    gc.collect()
    after = process.memory_info().rss
    growth = (after - baseline) / baseline
    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"\nsoak: {SOAK_QUESTIONS} questions after {SOAK_WARMUP} warm-up; RSS {baseline / 2**20:.1f} -> "
        f"{after / 2**20:.1f} MiB ({growth:+.2%}); latency p50 {cuts[49]:.0f} ms, p95 {cuts[94]:.0f} ms"
    )
    assert growth < 0.05, f"resident memory grew by {growth:.1%} over {SOAK_QUESTIONS} questions"
