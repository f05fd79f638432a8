"""The contention benchmark: the chain idle and beside a CPU burner on every core.

A hospital workstation or a shared server is never idle, and torch's default of one
intra-op thread per core thrashes as soon as another process wants a core. This
part measures the same questions four ways, in one run and one process: with the
settings' ``query_threads`` (default 1) and with torch's default (one per core),
each idle and then with ``os.cpu_count()`` busy-looping processes beside the
assistant. The burners are started and killed here, by their own process ids.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from assistant.evaluation.bench_queries import warm_query
from assistant.index.embeddings import set_thread_policy
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.assistant import Assistant

_BURN = "while True:\n    pass\n"
SPIN_UP_S = 1.0


@contextmanager
def cpu_burners(count: int) -> Iterator[list[int]]:
    """``count`` processes that each keep one core busy; always terminated on the way out."""
    burners = [
        subprocess.Popen([sys.executable, "-c", _BURN], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]
    try:
        time.sleep(SPIN_UP_S)  # let the scheduler see them busy before measuring
        yield [burner.pid for burner in burners]
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait(timeout=30)


def contention(
    assistant: Assistant,
    settings: Settings,
    questions: Sequence[str],
    rounds: int,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Chain p50/p95 and embed p50, idle vs loaded, for query_threads and for torch's default threads."""
    cores = os.cpu_count() or 1
    configurations = {f"query_threads_{settings.query_threads}": settings.query_threads}
    if cores != settings.query_threads:
        configurations[f"torch_default_threads_{cores}"] = cores
    result: dict[str, Any] = {"burners": cores}
    try:
        for name, threads in configurations.items():
            set_thread_policy(threads, settings.build_threads)
            say(f"Contention, {name}: idle")
            idle = _figures(warm_query(assistant, questions, rounds))
            say(f"Contention, {name}: {cores} CPU burner(s) running")
            with cpu_burners(cores):
                loaded = _figures(warm_query(assistant, questions, rounds))
            result[name] = {
                "idle": idle,
                "loaded": loaded,
                "loaded_over_idle_chain_p50": round(loaded["chain_p50_ms"] / idle["chain_p50_ms"], 2)
                if idle["chain_p50_ms"]
                else None,
            }
    finally:
        set_thread_policy(settings.query_threads, settings.build_threads)
    result["note"] = (
        "same questions and process; 'loaded' = one busy-looping process per core beside the assistant; "
        "target: loaded chain p50 <= 2x idle with query_threads"
    )
    return result


def _figures(warm: dict[str, Any]) -> dict[str, float]:
    return {
        "chain_p50_ms": warm["chain_ms"]["p50"],
        "chain_p95_ms": warm["chain_ms"]["p95"],
        "embed_p50_ms": warm["embed_ms"]["p50"],
        "queries": warm["queries"],
    }
