"""What checking shown statements against the guideline files costs: index load and per-question times.

Usage: python evals/trust_timing.py CORPUS INDEX [QUESTION ...]

Loads the index (never builds: a stale index is reported, not rebuilt), then asks each
question in order and prints its time and the files it quoted. The first question that
quotes a PDF re-extracts that PDF once per process; asking it again shows the cached cost.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assistant.assistant import Assistant
from assistant.index.embeddings import get_embedder
from assistant.index.store import load_index
from assistant.retrieval.searcher import HybridSearcher
from assistant.settings import Settings

QUESTIONS = [
    "What antibiotics for suspected early-onset neonatal infection?",
    "benzylpenicillin and gentamicin dose for early-onset neonatal infection",
    "What IVIG dose is used in warm AIHA?",
    "What antibiotics for suspected early-onset neonatal infection?",
]


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        raise SystemExit(__doc__.strip().splitlines()[2])
    settings = Settings(corpus_dir=Path(argv[0]), index_dir=Path(argv[1]))
    embedder = get_embedder(settings.model)
    started = time.perf_counter()
    loaded = load_index(settings)
    print(f"load_index: {time.perf_counter() - started:.2f} s")
    assistant = Assistant(HybridSearcher(loaded, embedder, settings), settings)
    for question in argv[2:] or QUESTIONS:
        started = time.perf_counter()
        answer = assistant.ask(question)
        sources = sorted({quote.source for quote in answer.quotes})
        print(f"{time.perf_counter() - started:6.2f} s  {len(answer.quotes)} quote(s) from {sources}  {question}")


if __name__ == "__main__":
    main(sys.argv[1:])
