"""The evaluation run: ``evaluate(assistant, gold, out_dir) -> dict[str, float | None]``.

It asks every gold question through the real chain, scores what came back and
writes four files to ``out_dir``:

* ``answers.jsonl``: the full answer JSON of every question, with its gold id;
* ``metrics.json``: every metric (prefixed names; ``null`` is n/a, nothing to measure),
  the primary metric, counts and the run's configuration;
* ``report.md``: the tables and the failures, question by question;
* ``report.png``: the main metrics per system.

This module only runs things (the assistant, its search and the baselines) and
composes the other parts: the metric definitions and functions live in
:mod:`assistant.evaluation.metrics`, the gates in :mod:`assistant.evaluation.thresholds`
and the rendering in :mod:`assistant.evaluation.report`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from assistant.evaluation.baselines import RetrievedText
from assistant.evaluation.gold import GoldItem, load_gold
from assistant.evaluation.metrics import (
    ItemResult,
    Metrics,
    SourceReader,
    abstention_scores,
    citation_scores,
    corpus_dose_keys,
    evidence_recall,
    expected_flag_raised,
    fact_recall,
    false_not_specified,
    forbidden_dose_problems,
    item_failures,
    mean,
    percentile,
    quote_fidelity,
    quoted_chars,
    quoted_text,
    relevant_ids,
    score_system,
    share,
    states_a_dose,
    unsupported_doses,
)
from assistant.evaluation.report import write_report
from assistant.evaluation.thresholds import Thresholds, check_thresholds, not_measured
from assistant.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from assistant.assistant import Assistant


class Retriever(Protocol):
    """What a baseline offers: a name, a fixed depth (or None for the run's k), its units, a ranking."""

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def top_k(self) -> int | None: ...

    def collection(self) -> list[tuple[str, str]]: ...

    def retrieve(self, question: str, k: int) -> list[RetrievedText]: ...


def evaluate(
    assistant: Assistant,
    gold: Sequence[GoldItem] | str | Path,
    out_dir: str | Path,
    k: int | None = None,
    baselines: bool = False,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
    results_out: list[ItemResult] | None = None,
) -> Metrics:
    """Ask every gold question, score the answers (and the baselines), write the four files to ``out_dir``.

    A metric the gold set gives nothing to measure on is None (n/a), never a made-up 0 or 1.
    ``results_out``, when given, receives every item's result (answer, passages, failures).
    """
    items = load_gold(gold) if isinstance(gold, (str, Path)) else list(gold)
    k = assistant.settings.k if k is None else k
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    searcher = assistant.searcher
    corpus_chars = sum(len(text) for text in _corpus_texts(assistant))
    systems: list[Retriever] = []
    if baselines:
        from assistant.evaluation.baselines import all_baselines

        systems = list(all_baselines(assistant))
    total_steps = len(items) * (1 + len(systems))
    done = 0

    results: list[ItemResult] = []
    with (out / "answers.jsonl").open("w", encoding="utf-8") as handle:
        for item in items:
            answer = assistant.ask(item.question, k=k)
            hits = assistant.retrieve(item.question, k)
            retrieved = [
                RetrievedText(
                    hit.chunk.id, hit.chunk.text, hit.chunk.source, hit.chunk.start, len(hit.chunk.text), hit.score
                )
                for hit in hits
            ]
            results.append(ItemResult(item, answer, retrieved))
            handle.write(json.dumps({"id": item.id, **answer.model_dump(mode="json")}, ensure_ascii=False) + "\n")
            done += 1
            if progress:
                progress(done, total_steps)

    answers = {result.item.id: result.answer for result in results}
    chunk_passages = [(chunk.id, chunk.text) for chunk in searcher.chunks]
    evidence = {item.id: list(item.evidence) for item in items if not item.abstain and item.evidence}
    relevant = {qid: relevant_ids(chunk_passages, ev) for qid, ev in evidence.items()}
    unmatched = sorted(qid for qid, ids in relevant.items() if not ids)

    metrics: Metrics = {}
    assistant_system = score_system(relevant, evidence, {r.item.id: r.retrieved for r in results}, k, corpus_chars)
    metrics.update({f"retrieval.{name}": value for name, value in assistant_system.items()})

    quoted_runs = {qid: [quoted_text(answers[qid])] for qid in evidence}
    answered = [a for a in answers.values() if not a.abstained]
    chars = [quoted_chars(a) for a in answered]
    metrics["answer.fact_recall"] = fact_recall(items, answers)
    metrics["answer.evidence_recall"] = evidence_recall(evidence, quoted_runs)
    chars_mean = metrics["answer.chars_quoted_mean"] = mean(chars)
    metrics["answer.chars_quoted_share"] = None if chars_mean is None else share(chars_mean, corpus_chars)
    metrics["citations.recall"], metrics["citations.precision"] = citation_scores(items, answers)
    read_source = SourceReader(assistant.settings.corpus_dir)
    metrics["quotes.fidelity"], n_quotes = quote_fidelity(answers.values(), read_source)
    metrics["quotes.count"] = float(n_quotes)
    metrics["abstention.precision"], metrics["abstention.recall"] = abstention_scores(items, answers)

    corpus_keys = corpus_dose_keys((chunk.text, chunk.context) for chunk in searcher.chunks)
    unsupported = {qid: unsupported_doses(answer, corpus_keys) for qid, answer in answers.items()}
    flag_items = [item for item in items if item.flag_dose]
    forbidden = {
        item.id: forbidden_dose_problems(item.question, answers[item.id], item.facts)
        for item in items
        if item.forbidden_doses
    }
    dosed = [item for item in items if not item.abstain and any(states_a_dose(fact) for fact in item.facts)]
    metrics["dose.unsupported_answers"] = float(sum(bool(found) for found in unsupported.values()))
    metrics["dose.expected_flags_raised"] = share(
        sum(expected_flag_raised(item, answers[item.id]) for item in flag_items), len(flag_items)
    )
    metrics["dose.forbidden_violations"] = _count_or_na(sum(bool(found) for found in forbidden.values()), forbidden)
    metrics["dose.false_not_specified"] = _count_or_na(
        sum(false_not_specified(item, answers[item.id]) for item in dosed), dosed
    )

    totals = [a.timings_ms.get("total", 0.0) for a in answers.values()]
    embeds = [a.timings_ms["embed"] for a in answers.values() if "embed" in a.timings_ms]
    metrics["latency.p50_ms"] = percentile(totals, 50)
    metrics["latency.p95_ms"] = percentile(totals, 95)
    metrics["latency.embed_p50_ms"] = percentile(embeds, 50)
    metrics["latency.rank_p50_ms"] = percentile([a.timings_ms["rank"] for a in answers.values() if "rank" in a.timings_ms], 50)
    metrics["gold.items"] = float(len(items))
    metrics["gold.unmatched_evidence"] = float(len(unmatched))

    system_scores: dict[str, Metrics] = {}
    labels: dict[str, str] = {}
    for system in systems:
        runs: dict[str, list[RetrievedText]] = {}
        for item in items:
            runs[item.id] = system.retrieve(item.question, system.top_k or k)
            done += 1
            if progress:
                progress(done, total_steps)
        # Each system is judged on its own units (the recipe's splits are not our statements).
        system_relevant = {qid: relevant_ids(system.collection(), ev) for qid, ev in evidence.items()}
        scores = score_system(system_relevant, evidence, runs, k, corpus_chars)
        system_scores[system.name] = scores
        labels[system.name] = system.label
        metrics.update({f"baseline.{system.name}.{name}": value for name, value in scores.items()})

    for result in results:
        result.failures = item_failures(result, relevant, unsupported, forbidden, read_source)
    if results_out is not None:
        results_out.extend(results)

    metrics = {name: None if value is None else round(value, 6) for name, value in metrics.items()}
    failures = check_thresholds(metrics, thresholds) if thresholds is not None else []
    unmeasured = not_measured(metrics, thresholds) if thresholds is not None else []
    config = {
        "k": k,
        "gold_items": len(items),
        "model": assistant.settings.model,
        "corpus_dir": str(assistant.settings.corpus_dir),
        "corpus_chars": corpus_chars,
        "chunks": len(searcher.chunks),
        "baselines": [system.name for system in systems],
        "created_at": datetime.now().isoformat(timespec="seconds"),
    }
    write_report(out, metrics, results, labels, config, failures, unmatched, system_scores, unmeasured)
    return metrics


def _count_or_na(count: int, measured: Sequence[object] | dict[str, list[str]]) -> float | None:
    """A count of problems, or None (n/a) when the gold set has no item it could be counted on."""
    return float(count) if measured else None


def _corpus_texts(assistant: Assistant) -> list[str]:
    from assistant.ingest.files import load_corpus

    return [document.raw for document in load_corpus(assistant.settings.corpus_dir).documents]


def default_out_dir(root: Path | None = None) -> Path:
    """``evals/runs/<timestamp>/`` (git-ignored)."""
    base = root or PROJECT_ROOT / "evals" / "runs"
    return base / datetime.now().strftime("%Y%m%d-%H%M%S")
