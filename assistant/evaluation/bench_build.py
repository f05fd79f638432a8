"""``bench --build``: how fast a library is indexed, as ratios taken within one run.

Every figure compares two things measured minutes apart on the same machine, so a
busy machine slows both sides; the absolute seconds are printed too, with the load.

* ``parse``: reading the library's files one by one vs in the process pool;
* ``encode``: the encoder alone on a sample of the library's statements, sliced in
  document order (how builds embedded before) vs sorted by token count, with one
  thread and with one per core, idle and beside a CPU burner (a process spinning on
  one core, as another user's work would), so the thread choice is shown, not assumed;
* ``build``: a full build into a fresh folder (no cache) against the bare sorted
  encoder on all its statements; ``--full`` right after (every vector from the cache);
  adding one guideline of 150-200 statements against encoding its statements alone;
* ``query``: one question's encode, p50 over the questions.

It builds only into a temporary folder this run makes and marks, and removes it at the end.
"""

from __future__ import annotations

import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.evaluation.bench_measure import load_average
from assistant.index.build import build_index
from assistant.index.embeddings import Embedder, build_threads_now, get_embedder
from assistant.ingest import files
from assistant.ingest.chunking import chunk_corpus
from assistant.settings import Settings

WORK_MARKER = ".guideline-assistant-bench"
Say = Callable[[str], None]


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


@contextmanager
def cpu_burner() -> Any:
    """One process spinning on one core (started and stopped by its own id) for the duration."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
    try:
        time.sleep(1.0)  # let it reach full speed before measuring beside it
        yield process.pid
    finally:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def work_folder() -> Any:
    """A temporary folder marked as this benchmark's, removed afterwards only if it still carries the mark."""
    folder = Path(tempfile.mkdtemp(prefix="guideline-assistant-bench-build-"))
    (folder / WORK_MARKER).write_text("Made by guideline-assistant bench --build; removed when it ends.\n")
    try:
        yield folder
    finally:
        if (folder / WORK_MARKER).is_file():
            shutil.rmtree(folder, ignore_errors=True)


def encode_document_order(embedder: Embedder, texts: Sequence[str], batch_size: int, threads: int) -> None:
    """How builds embedded before length sorting: slices of ``batch_size`` in document order."""
    for begin in range(0, len(texts), batch_size):
        embedder.encode(list(texts[begin : begin + batch_size]), batch_size=batch_size, threads=threads)


def encode_comparison(embedder: Embedder, texts: list[str], batch_size: int) -> dict[str, Any]:
    """Statements/s of document-order and sorted batches, with one thread and with every core."""
    cores = os.cpu_count() or 1
    figures: dict[str, Any] = {"statements": len(texts)}
    for threads in sorted({1, cores}):
        old, _ = _timed(functools.partial(encode_document_order, embedder, texts, batch_size, threads))
        new, _ = _timed(functools.partial(embedder.encode_sorted, texts, batch_size=batch_size, threads=threads))
        figures[f"threads_{threads}"] = {
            "document_order_per_s": round(len(texts) / old, 1),
            "sorted_per_s": round(len(texts) / new, 1),
            "sorted_speedup": round(old / new, 2),
        }
    if cores > 1:
        one, many = figures["threads_1"]["sorted_per_s"], figures[f"threads_{cores}"]["sorted_per_s"]
        figures["one_thread_vs_all"] = round(one / many, 2)
    return figures


def _padding(embedder: Embedder, texts: list[str], batch_size: int) -> dict[str, float]:
    """Tokens computed per real token: document-order slices vs sorted batches."""
    counts = embedder.token_counts(texts)
    real = sum(counts) or 1

    def padded(order: list[int]) -> int:
        return sum(
            max(counts[i] for i in order[b : b + batch_size]) * len(order[b : b + batch_size])
            for b in range(0, len(order), batch_size)
        )

    ordered = list(range(len(texts)))
    by_length = sorted(ordered, key=lambda i: -counts[i])
    return {"document_order": round(padded(ordered) / real, 3), "sorted": round(padded(by_length) / real, 3)}


def _pick_added(corpus_dir: Path, embedder: Embedder) -> tuple[str, list[str]] | None:
    """A text guideline of 150-200 statements (else the one nearest 175) to add to the library."""
    best: tuple[int, str, list[str]] | None = None
    for path in files.corpus_files(corpus_dir):
        if path.suffix.lower() not in files.TEXT_SUFFIXES:
            continue
        source = path.relative_to(corpus_dir).as_posix()
        try:
            parsed = files.parse_file(path, source)
        except Exception:  # noqa: BLE001 - a file the build would skip is simply not a candidate
            continue
        texts = [chunk.search_text for chunk in chunk_corpus(files.Corpus(corpus_dir, [parsed]))]
        distance = 0 if 150 <= len(texts) <= 200 else abs(len(texts) - 175)
        if best is None or distance < best[0]:
            best = (distance, source, texts)
    return (best[1], best[2]) if best else None


def build_bench(
    settings: Settings,
    sample: int = 768,
    with_burner: bool = True,
    say: Say | None = None,
    figure: Say | None = None,
) -> dict[str, Any]:
    """Every build figure for ``settings.corpus_dir`` (see the module docstring); the index folder is never touched.

    Each part's figures go to ``figure`` as soon as that part is done: on a busy machine
    the whole run takes many minutes, and a run stopped early still shows what it found.
    """
    from assistant.evaluation.bench import report_figures

    note = say or (lambda message: None)
    embedder = get_embedder(settings.model)
    report: dict[str, Any] = {}

    def part(name: str, value: Any) -> None:
        report[name] = value
        report_figures(f"build_bench.{name}", value, figure)

    part("load_average_start", load_average())
    part("cpu_count", os.cpu_count())
    note("Parsing: one by one, then in the process pool")
    sequential, corpus = _timed(lambda: files.load_corpus(settings.corpus_dir, parallel=False))
    pooled, _ = _timed(lambda: files.load_corpus(settings.corpus_dir))
    texts = [chunk.search_text for chunk in chunk_corpus(corpus)]
    part(
        "parse",
        {
            "files": len(corpus.files),
            "sequential_s": round(sequential, 2),
            "pool_s": round(pooled, 2),
            "speedup": round(sequential / pooled, 2),
        },
    )
    step = max(1, len(texts) // sample)
    sampled = texts[::step][:sample]
    embedder.encode(sampled[:8], threads=1)  # warm up outside every timing
    part("padding", _padding(embedder, texts, settings.batch_size))
    note(f"Encoder alone on {len(sampled)} statements, idle")
    part("encode_idle", encode_comparison(embedder, sampled, settings.batch_size))
    if with_burner:
        note("Encoder alone beside a CPU burner")
        with cpu_burner():
            beside = encode_comparison(embedder, sampled, settings.batch_size)
            beside["threads_chosen"] = build_threads_now()
        part("encode_burner", beside)
    part("build", _builds(settings, embedder, texts, note))
    part("query", _query(embedder, texts))
    part("load_average_end", load_average())
    return report


def _builds(settings: Settings, embedder: Embedder, texts: list[str], note: Say) -> dict[str, Any]:
    """First build, ``--full`` rebuild and add-one-guideline, each against the bare encoder on the same text."""
    threads = build_threads_now()
    figures: dict[str, Any] = {"threads": threads, "statements": len(texts), "distinct": len(set(texts))}
    with work_folder() as folder:
        corpus = folder / "corpus"
        shutil.copytree(settings.corpus_dir, corpus)
        target = settings.with_overrides(corpus_dir=corpus, index_dir=folder / "index")
        note(f"Bare sorted encoder on all {len(set(texts))} distinct statements ({threads} thread(s))")
        bare, _ = _timed(lambda: embedder.encode_sorted(sorted(set(texts)), settings.batch_size, threads=threads))
        note("Full build into a fresh folder (no cache)")
        first, loaded = _timed(lambda: build_index(target, embedder))
        note("--full rebuild right after (text unchanged)")
        again, _ = _timed(lambda: build_index(target, embedder, incremental=False))
        figures |= {
            "bare_encoder_s": round(bare, 2),
            "first_build_s": round(first, 2),
            "first_build_per_s": round(loaded.manifest.n_chunks / first, 1),
            "first_build_vs_bare_encoder": round(first / bare, 2),
            "full_rebuild_s": round(again, 2),
            "full_rebuild_vs_first": round(again / first, 3),
        }
        added = _pick_added(corpus, embedder)
        if added is not None:
            source, own = added
            kept = folder / "added"
            (corpus / source).rename(kept)
            build_index(target, embedder)
            kept.rename(corpus / source)
            note(f"Adding {source} ({len(own)} statements)")
            add, _ = _timed(lambda: build_index(target, embedder))
            alone, _ = _timed(lambda: embedder.encode_sorted(own, settings.batch_size, threads=threads))
            figures["add_one"] = {
                "source": source,
                "statements": len(own),
                "build_s": round(add, 2),
                "encode_alone_s": round(alone, 2),
                "ratio": round(add / alone, 2),
            }
    return figures


def _query(embedder: Embedder, texts: list[str]) -> dict[str, Any]:
    """One question's encode: p50 in ms over up to 100 statements taken as questions."""
    questions = texts[:: max(1, len(texts) // 100)][:100]
    embedder.encode_query(questions[0])
    times = [_timed(functools.partial(embedder.encode_query, q))[0] * 1000 for q in questions]
    return {"questions": len(questions), "p50_ms": round(statistics.median(times), 2)}
