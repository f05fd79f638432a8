"""The evaluation: ``evaluate(assistant, gold, out_dir) -> dict[str, float]``.

It asks every gold question through the real chain, scores what came back and
writes four files to ``out_dir``:

* ``answers.jsonl``: the full answer JSON of every question, with its gold id;
* ``metrics.json``: every metric (prefixed names), the primary metric, counts and
  the run's configuration;
* ``report.md``: the tables and the failures, question by question;
* ``report.png``: the main metrics per system.

Definitions (the README repeats them):

* **Relevance.** A passage is relevant to a question when its text contains one of
  the item's ``evidence`` strings (compared after :func:`~assistant.evaluation.gold.normalize_fact`).
  Abstain items have no evidence and are left out of every retrieval metric.
* **Retrieval** (``retrieval.*``): the hybrid search's top ``k`` scored by ``ranx``
  (``hit_rate@1/3/5``, ``recall@k``, ``mrr``, ``ndcg@5``) against qrels built from
  the evidence strings, plus ``evidence_recall``: the share of an item's evidence
  strings that some returned passage contains (averaged over items). Evidence recall
  is the one retrieval number comparable across systems that cut text differently.
* **Answer** (``answer.*``): ``fact_recall`` is the share of all gold facts found in
  the quoted text (statements and their lead-ins); ``evidence_recall`` the same as
  above over the quotes; ``chars_quoted_mean`` the verbatim characters shown per
  answered question.
* **Citations**: micro-averaged recall and precision of gold labels against
  ``answer.citations`` over answerable items that list citations.
* **Quote fidelity**: the share of quotes whose text equals the source file's text
  at their offsets. Anything below 1.0 is a bug.
* **Abstention**: precision and recall of ``answer.abstained`` against ``abstain``.
* **Dose safety.** ``dose.unsupported_answers`` counts answers whose Markdown states
  a dose (amount, unit, per-kg/m² basis, frequency) that no corpus statement states;
  an amount inside the guardrail's own calculation note is exempt when the dose it
  was calculated from is in the corpus. ``dose.expected_flags_raised`` is the share
  of ``flag_dose`` items whose answer carries a dose flag about that dose.
  ``dose.forbidden_violations`` counts ``forbidden_doses`` items whose answer either
  states a dose in its own (unquoted) words or quotes a dose for a drug the question
  names; quoted doses of other drugs are allowed.
* **Latency**: p50/p95 of the chain's own ``timings_ms.total``.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from assistant.answer.schema import Answer, FlagCode
from assistant.evaluation.baselines import RetrievedText
from assistant.evaluation.gold import GoldItem, load_gold, normalize_fact
from assistant.ingest.parser import read_guideline
from assistant.settings import PROJECT_ROOT

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PRIMARY_METRIC = "answer.fact_recall"
DEFAULT_THRESHOLDS = PROJECT_ROOT / "evals" / "thresholds.toml"

# The ranx metrics every system is scored with; "recall@k" is filled in with the run's k.
RANX_METRICS = ("hit_rate@1", "hit_rate@3", "hit_rate@5", "recall@k", "mrr", "ndcg@5")
SYSTEM_METRICS = (*RANX_METRICS, "evidence_recall", "chars_mean", "chars_share")
DOSE_FLAG_CODES = frozenset(
    {FlagCode.DOSE_MISMATCH, FlagCode.DOSE_UNIT_MISMATCH, FlagCode.DOSE_FREQUENCY_MISMATCH, FlagCode.DOSE_NOT_IN_SOURCE}
)

# Every metric the assistant itself produces (baseline.* names exist only with --baselines
# and are not gated); the thresholds file may name only these.
METRIC_NAMES: frozenset[str] = frozenset(
    [f"retrieval.{name}" for name in SYSTEM_METRICS]
    + [
        "answer.fact_recall",
        "answer.evidence_recall",
        "answer.chars_quoted_mean",
        "answer.chars_quoted_share",
        "citations.recall",
        "citations.precision",
        "quotes.fidelity",
        "quotes.count",
        "abstention.precision",
        "abstention.recall",
        "dose.unsupported_answers",
        "dose.expected_flags_raised",
        "dose.forbidden_violations",
        "latency.p50_ms",
        "latency.p95_ms",
        "latency.embed_p50_ms",
        "gold.items",
        "gold.unmatched_evidence",
    ]
)


# --------------------------------------------------------------------------- thresholds


class Thresholds(BaseModel):
    """``evals/thresholds.toml``: a metric must be >= its ``minimum`` and <= its ``maximum``."""

    model_config = ConfigDict(extra="forbid")

    minimum: dict[str, float] = {}
    maximum: dict[str, float] = {}

    @field_validator("minimum", "maximum")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - METRIC_NAMES)
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known metrics are {sorted(METRIC_NAMES)}")
        return value


def load_thresholds(path: str | Path = DEFAULT_THRESHOLDS) -> Thresholds:
    """Read and validate a thresholds file; a bad key or value raises ``ValueError`` naming the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read thresholds file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return Thresholds.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: invalid thresholds ({problems})") from exc


def check_thresholds(metrics: dict[str, float], thresholds: Thresholds) -> list[str]:
    """One line per metric outside its bounds (or missing); empty when every gate passes."""
    failures: list[str] = []
    for name, bound in sorted(thresholds.minimum.items()):
        if name not in metrics:
            failures.append(f"{name}: not computed (minimum {bound:g})")
        elif not metrics[name] >= bound:
            failures.append(f"{name} = {metrics[name]:.4g} is below the minimum {bound:g}")
    for name, bound in sorted(thresholds.maximum.items()):
        if name not in metrics:
            failures.append(f"{name}: not computed (maximum {bound:g})")
        elif not metrics[name] <= bound:
            failures.append(f"{name} = {metrics[name]:.4g} is above the maximum {bound:g}")
    return failures


# --------------------------------------------------------------------------- metric functions


def _ratio(numerator: float, denominator: float, vacuous: float = 0.0) -> float:
    """numerator / denominator; ``vacuous`` when there is nothing to divide by."""
    return float(numerator) / float(denominator) if denominator else vacuous


def contains_evidence(text: str, evidence: Iterable[str]) -> bool:
    normalized = normalize_fact(text)
    return any(normalize_fact(item) in normalized for item in evidence)


def relevant_ids(passages: Iterable[tuple[str, str]], evidence: Sequence[str]) -> set[str]:
    """Ids of the ``(id, text)`` passages that contain one of the evidence strings."""
    return {pid for pid, text in passages if contains_evidence(text, evidence)}


def retrieval_scores(relevant: dict[str, set[str]], ranked: dict[str, list[str]], k: int) -> dict[str, float]:
    """ranx scores of ranked id lists against binary relevance; queries without relevant ids are skipped."""
    from ranx import Qrels, Run, evaluate

    queries = [qid for qid, ids in relevant.items() if ids]
    names = [name.replace("@k", f"@{k}") for name in RANX_METRICS]
    if not queries:
        return {name: 0.0 for name in RANX_METRICS}
    qrels = Qrels({qid: {doc: 1 for doc in relevant[qid]} for qid in queries})
    run_dict: dict[str, dict[str, float]] = {}
    for qid in queries:
        # Scores 1/rank keep the system's own order exactly (ranx sorts by score).
        ids = list(dict.fromkeys(ranked.get(qid, [])))[:k]
        run_dict[qid] = {doc: 1.0 / rank for rank, doc in enumerate(ids, start=1)} or {"__nothing__": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba's uint64 -> int64 cast notice inside ranx
        scores = evaluate(qrels, Run(run_dict), names)
    return {generic: float(scores[name]) for generic, name in zip(RANX_METRICS, names, strict=True)}


def evidence_recall(evidence: dict[str, list[str]], returned: dict[str, list[str]]) -> float:
    """Mean over items of the share of evidence strings that some returned text contains."""
    shares = [
        _ratio(
            sum(any(contains_evidence(text, [item]) for text in returned.get(qid, [])) for item in items), len(items)
        )
        for qid, items in evidence.items()
        if items
    ]
    return float(np.mean(shares)) if shares else 0.0


def quoted_text(answer: Answer) -> str:
    """Everything shown verbatim: each quote's lead-in and statement."""
    return "\n".join(part for quote in answer.quotes for part in (quote.context, quote.text) if part)


def quoted_chars(answer: Answer) -> int:
    return sum(len(quote.text) + len(quote.context or "") for quote in answer.quotes)


def fact_recall(items: Sequence[GoldItem], answers: dict[str, Answer]) -> float:
    """Share of all gold facts (answerable items) found in the quoted text."""
    found = total = 0
    for item in items:
        if item.abstain or not item.facts:
            continue
        text = normalize_fact(quoted_text(answers[item.id])) if item.id in answers else ""
        total += len(item.facts)
        found += sum(normalize_fact(fact) in text for fact in item.facts)
    return _ratio(found, total)


def citation_scores(items: Sequence[GoldItem], answers: dict[str, Answer]) -> tuple[float, float]:
    """Micro-averaged (recall, precision) of citation labels over answerable items that list citations."""
    hits = expected = given = 0
    for item in items:
        if item.abstain or not item.citations:
            continue
        cited = set(answers[item.id].citations) if item.id in answers else set()
        gold = set(item.citations)
        hits += len(gold & cited)
        expected += len(gold)
        given += len(cited)
    return _ratio(hits, expected), _ratio(hits, given)


def abstention_scores(items: Sequence[GoldItem], answers: dict[str, Answer]) -> tuple[float, float]:
    """(precision, recall) of abstaining; precision is 1.0 when the system never abstains wrongly or at all."""
    abstained = {item.id for item in items if item.id in answers and answers[item.id].abstained}
    should = {item.id for item in items if item.abstain}
    correct = len(abstained & should)
    return _ratio(correct, len(abstained), vacuous=1.0), _ratio(correct, len(should), vacuous=1.0)


class SourceReader:
    """Raw guideline text by source path, read once each (for quote fidelity)."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = Path(corpus_dir)
        self._cache: dict[str, str | None] = {}

    def __call__(self, source: str) -> str | None:
        if source not in self._cache:
            root = self.corpus_dir.resolve()
            path = (root / source).resolve()
            try:
                ok = path.is_relative_to(root) and path.is_file()
                self._cache[source] = read_guideline(path) if ok else None
            except Exception:  # unreadable source: every quote from it fails fidelity
                self._cache[source] = None
        return self._cache[source]


def quote_faithful(quote: Any, read_source: Callable[[str], str | None]) -> bool:
    raw = read_source(quote.source)
    return raw is not None and 0 <= quote.start <= quote.end <= len(raw) and raw[quote.start : quote.end] == quote.text


def quote_fidelity(answers: Iterable[Answer], read_source: Callable[[str], str | None]) -> tuple[float, int]:
    """(share of quotes equal to the source text at their offsets, number of quotes); 1.0 when nothing is quoted."""
    results = [quote_faithful(quote, read_source) for answer in answers for quote in answer.quotes]
    return _ratio(sum(results), len(results), vacuous=1.0), len(results)


# --------------------------------------------------------------------------- dose safety


def _dose_key(dose: Any) -> tuple[object, ...]:
    """What a dose claims, without drug or wording: amount, unit, basis, how often."""
    return (dose.low, dose.high, dose.unit, dose.basis, dose.frequency)


def corpus_dose_keys(statements: Iterable[tuple[str, str | None]]) -> set[tuple[object, ...]]:
    """Keys of every dose stated in the corpus's ``(text, lead_in)`` statements."""
    from assistant.guardrails.doses import parse_doses

    return {_dose_key(dose) for text, context in statements for dose in parse_doses(text, context=context)}


def unsupported_doses(answer: Answer, corpus_keys: set[tuple[object, ...]]) -> list[str]:
    """Dose expressions in the answer's Markdown that no corpus statement states."""
    from assistant.guardrails.doses import parse_doses

    text = answer.answer
    for flag in answer.guardrail.flags:
        # Arithmetic from a corpus dose ("1 g/kg x 70 kg = 70 g") is derived, not invented.
        if flag.code is FlagCode.CALCULATION and flag.text and flag.message in text:
            sources = parse_doses(flag.text)
            if sources and all(_dose_key(dose) in corpus_keys for dose in sources):
                text = text.replace(flag.message, " ")
    return [dose.text for dose in parse_doses(text) if _dose_key(dose) not in corpus_keys]


def expected_flag_raised(item: GoldItem, answer: Answer) -> bool:
    """A dose flag about the question's wrong dose (the flag's text and the gold dose overlap)."""
    wanted = normalize_fact(item.flag_dose or "")
    for flag in answer.guardrail.flags:
        if flag.code in DOSE_FLAG_CODES and flag.text:
            got = normalize_fact(flag.text)
            if wanted in got or got in wanted:
                return True
    return False


def forbidden_dose_problems(question: str, answer: Answer, facts: Sequence[str] = ()) -> list[str]:
    """For a question whose drug has no dose in the guideline: doses the answer must not state.

    The asked drug is the drug the question names that the gold facts name too (all drugs the
    question names when the facts name none): "how much mycophenolate after rituximab fails"
    asks about mycophenolate. A violation is a dose in the answer's own words, or a quoted dose
    for the asked drug from a statement about it as asked; a quoted dose for the same drug at
    another intensity (the standard IVIG dose when low-dose IVIG was asked) is allowed, because
    the guardrail labels it as stated for a different use.
    """
    from assistant.guardrails.checks import quoted_doses, unquoted_text
    from assistant.guardrails.doses import parse_doses
    from assistant.vocabulary.drugs import find_drugs, same_drug

    problems = [
        f"states {dose.text!r} in its own words" for dose in parse_doses(unquoted_text(answer.answer, answer.quotes))
    ]
    mentions = find_drugs(question)
    named = normalize_fact(" ".join(facts))
    asked = [m for m in mentions if normalize_fact(m.label) in named or normalize_fact(m.surface) in named] or mentions
    for found in quoted_doses(answer.quotes):
        for mention in asked:
            if not same_drug(found.dose.drug_key, mention.key):
                continue
            said = find_drugs(found.quote.text) + (find_drugs(found.quote.context) if found.quote.context else [])
            if any(same_drug(m.key, mention.key) and m.modifier == mention.modifier for m in said):
                problems.append(f"quotes {found.dose.text!r} for {mention.label}")
                break
    return problems


# --------------------------------------------------------------------------- the run


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


@dataclass
class ItemResult:
    """Everything scored for one gold item (what ``report.md`` lists)."""

    item: GoldItem
    answer: Answer
    retrieved: list[RetrievedText]
    failures: list[str] = field(default_factory=list)


def evaluate(
    assistant: Any,
    gold: Sequence[GoldItem] | str | Path,
    out_dir: str | Path,
    k: int | None = None,
    baselines: bool = False,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, float]:
    """Ask every gold question, score the answers (and the baselines), write the four files to ``out_dir``."""
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
            hits = searcher.search(item.question, k)
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

    metrics: dict[str, float] = {}
    assistant_system = _system_scores(relevant, evidence, {r.item.id: r.retrieved for r in results}, k, corpus_chars)
    metrics.update({f"retrieval.{name}": value for name, value in assistant_system.items()})

    quoted_runs = {qid: [quoted_text(answers[qid])] for qid in evidence}
    answered = [a for a in answers.values() if not a.abstained]
    chars = [quoted_chars(a) for a in answered]
    metrics["answer.fact_recall"] = fact_recall(items, answers)
    metrics["answer.evidence_recall"] = evidence_recall(evidence, quoted_runs)
    metrics["answer.chars_quoted_mean"] = float(np.mean(chars)) if chars else 0.0
    metrics["answer.chars_quoted_share"] = _ratio(metrics["answer.chars_quoted_mean"], corpus_chars)
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
    metrics["dose.unsupported_answers"] = float(sum(bool(found) for found in unsupported.values()))
    metrics["dose.expected_flags_raised"] = _ratio(
        sum(expected_flag_raised(item, answers[item.id]) for item in flag_items), len(flag_items), vacuous=1.0
    )
    metrics["dose.forbidden_violations"] = float(sum(bool(found) for found in forbidden.values()))

    totals = [a.timings_ms.get("total", 0.0) for a in answers.values()]
    embeds = [a.timings_ms["embed"] for a in answers.values() if "embed" in a.timings_ms]
    metrics["latency.p50_ms"] = _percentile(totals, 50)
    metrics["latency.p95_ms"] = _percentile(totals, 95)
    metrics["latency.embed_p50_ms"] = _percentile(embeds, 50)
    metrics["gold.items"] = float(len(items))
    metrics["gold.unmatched_evidence"] = float(len(unmatched))

    system_scores: dict[str, dict[str, float]] = {}
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
        scores = _system_scores(system_relevant, evidence, runs, k, corpus_chars)
        system_scores[system.name] = scores
        labels[system.name] = system.label
        metrics.update({f"baseline.{system.name}.{name}": value for name, value in scores.items()})

    for result in results:
        result.failures = _item_failures(result, relevant, unsupported, forbidden, read_source)

    metrics = {name: round(value, 6) for name, value in metrics.items()}
    failures = check_thresholds(metrics, thresholds) if thresholds is not None else []
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
    (out / "metrics.json").write_text(
        json.dumps(
            {
                "primary_metric": PRIMARY_METRIC,
                "metrics": metrics,
                "threshold_failures": failures,
                "config": config,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    (out / "report.md").write_text(
        render_report(metrics, results, labels, config, failures, unmatched), encoding="utf-8"
    )
    render_chart(metrics, system_scores, labels, out / "report.png", corpus_chars)
    return metrics


def _corpus_texts(assistant: Any) -> list[str]:
    from assistant.ingest.parser import load_corpus

    return [document.raw for document in load_corpus(assistant.settings.corpus_dir).documents]


def _system_scores(
    relevant: dict[str, set[str]],
    evidence: dict[str, list[str]],
    runs: dict[str, list[RetrievedText]],
    k: int,
    corpus_chars: int,
) -> dict[str, float]:
    scores = retrieval_scores(relevant, {qid: [p.id for p in passages] for qid, passages in runs.items()}, k)
    scores["evidence_recall"] = evidence_recall(evidence, {qid: [p.text for p in ps] for qid, ps in runs.items()})
    chars = [sum(p.chars for p in runs.get(qid, [])) for qid in evidence]
    scores["chars_mean"] = float(np.mean(chars)) if chars else 0.0
    scores["chars_share"] = _ratio(scores["chars_mean"], corpus_chars)
    return scores


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def _item_failures(
    result: ItemResult,
    relevant: dict[str, set[str]],
    unsupported: dict[str, list[str]],
    forbidden: dict[str, list[str]],
    read_source: Callable[[str], str | None],
) -> list[str]:
    item, answer = result.item, result.answer
    problems: list[str] = []
    if item.abstain and not answer.abstained:
        problems.append("answered a question the guideline does not address")
    if not item.abstain and answer.abstained:
        problems.append("abstained on an answerable question")
    if not item.abstain and not answer.abstained:
        text = normalize_fact(quoted_text(answer))
        missing = [fact for fact in item.facts if normalize_fact(fact) not in text]
        if missing:
            problems.append(f"facts not quoted: {missing}")
        gold_cites = set(item.citations)
        if gold_cites - set(answer.citations):
            problems.append(f"citations missing: {sorted(gold_cites - set(answer.citations))}")
    if item.evidence and relevant.get(item.id) and not {p.id for p in result.retrieved} & relevant[item.id]:
        problems.append("no evidence statement in the retrieved top k")
    if item.flag_dose and not expected_flag_raised(item, answer):
        problems.append(f"no dose flag for {item.flag_dose!r}")
    if unsupported.get(item.id):
        problems.append(f"states dose(s) not in the corpus: {unsupported[item.id]}")
    if forbidden.get(item.id):
        problems.append("forbidden dose: " + "; ".join(forbidden[item.id]))
    bad = [q for q in answer.quotes if not quote_faithful(q, read_source)]
    if bad:
        problems.append(f"{len(bad)} quote(s) differ from the source at their offsets")
    return problems


# --------------------------------------------------------------------------- report


SYSTEM_COLUMNS = (
    ("evidence_recall", "Evidence recall"),
    ("hit_rate@1", "Hit@1"),
    ("hit_rate@3", "Hit@3"),
    ("hit_rate@5", "Hit@5"),
    ("recall@k", "Recall@k"),
    ("mrr", "MRR"),
    ("ndcg@5", "nDCG@5"),
    ("chars_mean", "Chars returned"),
    ("chars_share", "% of corpus"),
)


def system_rows(
    metrics: dict[str, float], labels: dict[str, str] | None = None, k: int | None = None
) -> list[tuple[str, list[str]]]:
    """(system label, formatted cells) for the assistant, its retrieval and every baseline in ``metrics``."""
    from assistant.evaluation.baselines import LABELS

    labels = {**LABELS, **(labels or {})}
    answer_row = {
        "evidence_recall": metrics.get("answer.evidence_recall"),
        "chars_mean": metrics.get("answer.chars_quoted_mean"),
        "chars_share": metrics.get("answer.chars_quoted_share"),
    }
    rows: list[tuple[str, dict[str, float | None]]] = [
        ("Assistant answer (verbatim quotes)", answer_row),
        (
            f"Assistant retrieval (hybrid, top {k or 'k'})",
            {n: metrics.get(f"retrieval.{n}") for n, _ in SYSTEM_COLUMNS},
        ),
    ]
    for name in sorted({name.split(".")[1] for name in metrics if name.startswith("baseline.")}):
        rows.append((labels.get(name, name), {n: metrics.get(f"baseline.{name}.{n}") for n, _ in SYSTEM_COLUMNS}))
    return [(label, [_cell(column, values.get(column)) for column, _ in SYSTEM_COLUMNS]) for label, values in rows]


def system_table(metrics: dict[str, float], labels: dict[str, str] | None = None, k: int | None = None) -> str:
    """The assistant-vs-baselines Markdown table (also pasted into the README)."""
    lines = [
        "| System | " + " | ".join(title for _, title in SYSTEM_COLUMNS) + " |",
        "|" + "---|" * (len(SYSTEM_COLUMNS) + 1),
    ]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in system_rows(metrics, labels, k)]
    return "\n".join(lines)


def _cell(column: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if column == "chars_mean":
        return f"{value:.0f}"
    if column == "chars_share":
        return f"{100 * value:.1f}%"
    return f"{value:.3f}"


def answer_table(metrics: dict[str, float]) -> str:
    rows = [
        ("Fact recall (facts found in the quotes)", "answer.fact_recall", "{:.3f}"),
        ("Citation recall", "citations.recall", "{:.3f}"),
        ("Citation precision", "citations.precision", "{:.3f}"),
        ("Quote fidelity (must be 1.0)", "quotes.fidelity", "{:.3f}"),
        ("Quotes checked", "quotes.count", "{:.0f}"),
        ("Abstention precision", "abstention.precision", "{:.3f}"),
        ("Abstention recall", "abstention.recall", "{:.3f}"),
        ("Answers stating a dose absent from the corpus (must be 0)", "dose.unsupported_answers", "{:.0f}"),
        ("Expected dose flags raised", "dose.expected_flags_raised", "{:.3f}"),
        ("Forbidden-dose violations (must be 0)", "dose.forbidden_violations", "{:.0f}"),
        ("Mean characters quoted per answer", "answer.chars_quoted_mean", "{:.0f}"),
        ("Latency p50 (ms, whole chain)", "latency.p50_ms", "{:.1f}"),
        ("Latency p95 (ms, whole chain)", "latency.p95_ms", "{:.1f}"),
        ("Query embedding p50 (ms)", "latency.embed_p50_ms", "{:.1f}"),
    ]
    lines = ["| Metric | Value |", "|---|---|"]
    lines += [f"| {title} | {fmt.format(metrics[key])} |" for title, key, fmt in rows if key in metrics]
    return "\n".join(lines)


def render_report(
    metrics: dict[str, float],
    results: list[ItemResult],
    labels: dict[str, str],
    config: dict[str, Any],
    threshold_failures: list[str],
    unmatched: list[str],
) -> str:
    k = config["k"]
    failed = [r for r in results if r.failures]
    parts = [
        "# Evaluation report",
        "",
        f"{config['gold_items']} gold questions · k = {k} · model `{config['model']}` · "
        f"{config['chunks']} statements, {config['corpus_chars']} characters of guideline text · {config['created_at']}",
        "",
        f"Primary metric `{PRIMARY_METRIC}` = **{metrics[PRIMARY_METRIC]:.3f}**.",
        "",
        "## Thresholds",
        "",
        (
            "All thresholds pass."
            if not threshold_failures
            else "\n".join(f"- FAIL {line}" for line in threshold_failures)
        ),
        "",
        "## Retrieval: assistant vs baselines",
        "",
        "A passage is relevant when it contains a gold evidence string. *Evidence recall* is the share of "
        "evidence strings found in what the system returned; *chars returned* is what a reader has to read "
        "per question (mean), and its share of the whole corpus. Recall@k, MRR and nDCG are computed with "
        "ranx on each system's own units (statements, or 1000-character splits for the LangChain recipe).",
        "",
        system_table(metrics, labels, k),
        "",
        "## Answers",
        "",
        answer_table(metrics),
        "",
        "## By tag",
        "",
        _tag_table(results),
        "",
        f"## Failures ({len(failed)} of {len(results)} questions)",
        "",
    ]
    if unmatched:
        parts += [f"Gold items whose evidence no statement contains (left out of retrieval metrics): {unmatched}", ""]
    if not failed:
        parts.append("None.")
    for result in failed:
        parts.append(f"### `{result.item.id}`: {result.item.question}")
        parts.append("")
        parts += [f"- {problem}" for problem in result.failures]
        shown = (
            "abstained"
            if result.answer.abstained
            else f"{len(result.answer.quotes)} quote(s), cites {result.answer.citations}"
        )
        flags = ", ".join(flag.code.value for flag in result.answer.guardrail.flags) or "none"
        parts.append(f"- answer: {shown}; guardrail {result.answer.guardrail.status.value} (flags: {flags})")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _tag_table(results: list[ItemResult]) -> str:
    tags = sorted({tag for r in results for tag in r.item.tags})
    lines = ["| Tag | Questions | Passed all checks |", "|---|---|---|"]
    for tag in tags:
        group = [r for r in results if tag in r.item.tags]
        ok = sum(not r.failures for r in group)
        lines.append(f"| {tag} | {len(group)} | {ok} ({100 * ok / len(group):.0f}%) |")
    return "\n".join(lines)


def render_chart(
    metrics: dict[str, float],
    system_scores: dict[str, dict[str, float]],
    labels: dict[str, str],
    path: Path,
    corpus_chars: int | None = None,
) -> None:
    """Two panels: retrieval quality per system, and characters a reader gets per question."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems: list[tuple[str, dict[str, float | None]]] = [
        (
            "Assistant answer",
            {
                "evidence_recall": metrics.get("answer.evidence_recall"),
                "chars_mean": metrics.get("answer.chars_quoted_mean"),
            },
        ),
        ("Assistant retrieval", {n: metrics.get(f"retrieval.{n}") for n in SYSTEM_METRICS}),
    ]
    systems += [(_short(labels.get(name, name)), dict(row)) for name, row in system_scores.items()]
    quality = [("evidence_recall", "Evidence recall"), ("hit_rate@1", "Hit@1"), ("mrr", "MRR"), ("ndcg@5", "nDCG@5")]
    answer_metrics = [
        ("answer.fact_recall", "Fact recall"),
        ("citations.recall", "Citation R"),
        ("citations.precision", "Citation P"),
        ("abstention.precision", "Abstain P"),
        ("abstention.recall", "Abstain R"),
        ("quotes.fidelity", "Quote fidelity"),
        ("dose.expected_flags_raised", "Dose flags"),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(17, 5.2), gridspec_kw={"width_ratios": [3, 2, 2.4]})
    width = 0.8 / max(len(systems), 1)
    x = np.arange(len(quality))
    for index, (name, row) in enumerate(systems):
        values = [row.get(metric) if row.get(metric) is not None else 0.0 for metric, _ in quality]
        axes[0].bar(x + index * width - 0.4 + width / 2, values, width, label=name)
    axes[0].set_xticks(x, [title for _, title in quality])
    axes[0].set_ylim(0, 1.3)
    axes[0].set_yticks(np.linspace(0, 1, 6))
    axes[0].set_title("Retrieval quality (answerable questions)")
    axes[0].legend(fontsize=8, loc="upper center", ncol=3)
    names = [name for name, _ in systems]
    chars = [row.get("chars_mean") or 0.0 for _, row in systems]
    axes[1].barh(names, chars, color=[f"C{i}" for i in range(len(systems))])
    axes[1].invert_yaxis()
    axes[1].set_title("Characters returned per question (mean)")
    if corpus_chars:
        axes[1].axvline(corpus_chars, color="grey", linestyle="--", linewidth=1)
        axes[1].text(
            corpus_chars, len(systems) - 0.5, " whole corpus", color="grey", fontsize=8, ha="right", va="bottom"
        )
    for position, value in enumerate(chars):
        axes[1].text(value, position, f" {value:.0f}", va="center", fontsize=8)
    axes[2].bar(
        [title for _, title in answer_metrics], [metrics.get(key, 0.0) for key, _ in answer_metrics], color="C0"
    )
    axes[2].set_ylim(0, 1.05)
    axes[2].set_title("Assistant answers")
    axes[2].tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(label: str) -> str:
    return re.sub(r"\s*\(.*\)$", "", label)


def default_out_dir(root: Path | None = None) -> Path:
    """``evals/runs/<timestamp>/`` (git-ignored)."""
    base = root or PROJECT_ROOT / "evals" / "runs"
    return base / datetime.now().strftime("%Y%m%d-%H%M%S")
