"""The metrics: pure functions from gold items and answers to numbers, and each question's failures.

Nothing here asks the assistant anything or writes a file: :mod:`assistant.evaluation.runner`
collects the answers and the retrieved passages and these functions score them, so every
metric can be checked on hand-made inputs.

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
  ``dose.false_not_specified`` counts answerable items whose facts include a dose (a
  number with a unit, as the guardrail parses it) and whose answer nevertheless says the
  guideline gives no dose (a ``dose_not_specified`` flag): the opposite of the guideline.
* **Latency**: p50/p95 of the chain's own ``timings_ms.total``.

**n/a.** A metric with nothing to measure (citation scores on a gold set without labels,
abstention precision when nothing abstained, dose metrics with no dose items) is ``None``
(JSON ``null``, shown as "n/a") rather than 0 or 1: a user's own gold file must not report a
perfect or a failing score for something it never asked about, and an n/a gate does not fail.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np

from assistant.answer.schema import Answer, FlagCode
from assistant.evaluation.baselines import RetrievedText
from assistant.evaluation.gold import GoldItem, normalize_fact
from assistant.ingest.files import read_guideline
from assistant.ingest.files import read_source as extract_source

PRIMARY_METRIC = "answer.fact_recall"

# A metric value: None is "n/a", nothing in this run to measure it on.
Metrics: TypeAlias = dict[str, float | None]
NA = "n/a"

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
        "dose.false_not_specified",
        "latency.p50_ms",
        "latency.p95_ms",
        "latency.embed_p50_ms",
        "latency.rank_p50_ms",
        "gold.items",
        "gold.unmatched_evidence",
    ]
)


# --------------------------------------------------------------------------- metric functions


def ratio(numerator: float, denominator: float, vacuous: float = 0.0) -> float:
    """numerator / denominator; ``vacuous`` when there is nothing to divide by."""
    return float(numerator) / float(denominator) if denominator else vacuous


def share(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None (n/a) when there is nothing to divide by."""
    return float(numerator) / float(denominator) if denominator else None


def mean(values: Sequence[float]) -> float | None:
    """The mean, or None (n/a) for no values."""
    return float(np.mean(values)) if values else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile; None (n/a) for no values (an empty run has no latency)."""
    return float(np.percentile(values, q)) if values else None


def format_metric(value: float | None, spec: str = "{:.4g}") -> str:
    """A metric for a person: ``spec`` applied, or "n/a" when there was nothing to measure."""
    return NA if value is None else spec.format(value)


def contains_evidence(text: str, evidence: Iterable[str]) -> bool:
    normalized = normalize_fact(text)
    return any(normalize_fact(item) in normalized for item in evidence)


def relevant_ids(passages: Iterable[tuple[str, str]], evidence: Sequence[str]) -> set[str]:
    """Ids of the ``(id, text)`` passages that contain one of the evidence strings."""
    return {pid for pid, text in passages if contains_evidence(text, evidence)}


def retrieval_scores(relevant: dict[str, set[str]], ranked: dict[str, list[str]], k: int) -> Metrics:
    """ranx scores of ranked id lists against binary relevance; queries without relevant ids are skipped.

    With no query that has a relevant id (a gold set without evidence) every score is None.
    """
    from ranx import Qrels, Run, evaluate

    queries = [qid for qid, ids in relevant.items() if ids]
    names = [name.replace("@k", f"@{k}") for name in RANX_METRICS]
    if not queries:
        return {name: None for name in RANX_METRICS}
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


def evidence_recall(evidence: dict[str, list[str]], returned: dict[str, list[str]]) -> float | None:
    """Mean over items of the share of evidence strings that some returned text contains (None: no evidence)."""
    shares = [
        ratio(sum(any(contains_evidence(text, [item]) for text in returned.get(qid, [])) for item in items), len(items))
        for qid, items in evidence.items()
        if items
    ]
    return mean(shares)


def score_system(
    relevant: dict[str, set[str]],
    evidence: dict[str, list[str]],
    runs: dict[str, list[RetrievedText]],
    k: int,
    corpus_chars: int,
) -> Metrics:
    """One retrieval system's ``SYSTEM_METRICS`` (the assistant's search or a baseline) from its passages."""
    scores = retrieval_scores(relevant, {qid: [p.id for p in passages] for qid, passages in runs.items()}, k)
    scores["evidence_recall"] = evidence_recall(evidence, {qid: [p.text for p in ps] for qid, ps in runs.items()})
    chars = [sum(p.chars for p in runs.get(qid, [])) for qid in evidence]
    chars_mean = scores["chars_mean"] = mean(chars)
    scores["chars_share"] = None if chars_mean is None else share(chars_mean, corpus_chars)
    return scores


def quoted_text(answer: Answer) -> str:
    """Everything shown verbatim: each quote's lead-in and statement."""
    return "\n".join(part for quote in answer.quotes for part in (quote.context, quote.text) if part)


def quoted_chars(answer: Answer) -> int:
    return sum(len(quote.text) + len(quote.context or "") for quote in answer.quotes)


def fact_recall(items: Sequence[GoldItem], answers: dict[str, Answer]) -> float | None:
    """Share of all gold facts (answerable items) found in the quoted text; None when no item lists facts."""
    found = total = 0
    for item in items:
        if item.abstain or not item.facts:
            continue
        text = normalize_fact(quoted_text(answers[item.id])) if item.id in answers else ""
        total += len(item.facts)
        found += sum(normalize_fact(fact) in text for fact in item.facts)
    return share(found, total)


def citation_scores(items: Sequence[GoldItem], answers: dict[str, Answer]) -> tuple[float | None, float | None]:
    """Micro-averaged (recall, precision) of citation labels over answerable items that list citations.

    Recall is None when no item lists labels (a gold set without citations); precision is
    None when those items' answers cite nothing at all (recall then says what went wrong).
    """
    hits = expected = given = 0
    for item in items:
        if item.abstain or not item.citations:
            continue
        cited = set(answers[item.id].citations) if item.id in answers else set()
        gold = set(item.citations)
        hits += len(gold & cited)
        expected += len(gold)
        given += len(cited)
    return share(hits, expected), share(hits, given)


def abstention_scores(items: Sequence[GoldItem], answers: dict[str, Answer]) -> tuple[float | None, float | None]:
    """(precision, recall) of abstaining; precision is None when nothing abstained, recall when no item should."""
    abstained = {item.id for item in items if item.id in answers and answers[item.id].abstained}
    should = {item.id for item in items if item.abstain}
    correct = len(abstained & should)
    return share(correct, len(abstained)), share(correct, len(should))


class SourceReader:
    """Guideline text by source path, read once each (for quote fidelity).

    A quote whose offsets index the canonical text (PDF, HTML, repaired text) is
    checked against a fresh extraction of the file, not the index's stored copy,
    so the check does not trust what it is checking.
    """

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = Path(corpus_dir)
        self._cache: dict[tuple[str, bool], str | None] = {}

    def __call__(self, source: str, canonical: bool = False) -> str | None:
        key = (source, canonical)
        if key not in self._cache:
            root = self.corpus_dir.resolve()
            path = (root / source).resolve()
            try:
                ok = path.is_relative_to(root) and path.is_file()
                text = (extract_source(path).text if canonical else read_guideline(path)) if ok else None
                self._cache[key] = text
            except Exception:  # unreadable source: every quote from it fails fidelity
                self._cache[key] = None
        return self._cache[key]


def quote_faithful(quote: Any, read_source: Callable[..., str | None]) -> bool:
    canonical = getattr(quote, "offsets", "raw") == "canonical"
    raw = read_source(quote.source, canonical) if canonical else read_source(quote.source)
    return raw is not None and 0 <= quote.start <= quote.end <= len(raw) and raw[quote.start : quote.end] == quote.text


def quote_fidelity(answers: Iterable[Answer], read_source: Callable[..., str | None]) -> tuple[float | None, int]:
    """(share of quotes equal to the source text at their offsets, number of quotes); None when nothing is quoted."""
    results = [quote_faithful(quote, read_source) for answer in answers for quote in answer.quotes]
    return share(sum(results), len(results)), len(results)


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
    from assistant.present.inert import uninert
    from assistant.present.view import alert_text

    text = uninert(answer.markdown)  # the characters as written, without the Markdown's escapes
    for flag in answer.guardrail.flags:
        # Arithmetic from a corpus dose ("1 g/kg x 70 kg = 70 g") is derived, not invented; the
        # Markdown shows the message as an alert says it (guideline titles, no statement re-quoted).
        shown = [message for message in (flag.message, alert_text(flag.message, answer.quotes)) if message in text]
        if flag.code is FlagCode.CALCULATION and flag.text and shown:
            sources = parse_doses(flag.text)
            if sources and all(_dose_key(dose) in corpus_keys for dose in sources):
                for message in shown:
                    text = text.replace(message, " ")
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


def states_a_dose(text: str) -> bool:
    """Whether a gold fact is dose-like: an amount with a unit the guardrail parses as a dose."""
    from assistant.guardrails.doses import parse_doses

    return bool(parse_doses(text))


def false_not_specified(item: GoldItem, answer: Answer) -> bool:
    """The answer says "no dose given" although the item's gold facts quote the guideline's dose.

    Only answerable items whose facts include a dose count: for them a ``dose_not_specified``
    flag tells the clinician the opposite of what the guideline says (issue 12's worst bug).
    """
    if item.abstain or not any(states_a_dose(fact) for fact in item.facts):
        return False
    return any(flag.code is FlagCode.DOSE_NOT_SPECIFIED for flag in answer.guardrail.flags)


def forbidden_dose_problems(question: str, answer: Answer, facts: Sequence[str] = ()) -> list[str]:
    """For a question whose drug has no dose in the guideline: doses the answer must not state.

    The asked drug is the drug the question names that the gold facts name too (all drugs the
    question names when the facts name none): "how much mycophenolate after rituximab fails"
    asks about mycophenolate. A violation is a dose in the answer's own words, or a quoted dose
    for the asked drug from a statement about it as asked; a quoted dose for the same drug at
    another intensity (the standard IVIG dose when low-dose IVIG was asked) is allowed, because
    the guardrail labels it as stated for a different use.
    """
    from assistant.guardrails.checks import quoted_doses
    from assistant.guardrails.doses import parse_doses
    from assistant.present import unquoted_text
    from assistant.present.inert import uninert
    from assistant.vocabulary.drugs import find_drugs, same_drug

    problems = [
        f"states {dose.text!r} in its own words"
        for dose in parse_doses(uninert(unquoted_text(answer.markdown, answer.quotes)))
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


# --------------------------------------------------------------------------- one question's verdict


@dataclass
class ItemResult:
    """Everything scored for one gold item (what ``report.md`` lists)."""

    item: GoldItem
    answer: Answer
    retrieved: list[RetrievedText]
    failures: list[str] = field(default_factory=list)


def item_failures(
    result: ItemResult,
    relevant: dict[str, set[str]],
    unsupported: dict[str, list[str]],
    forbidden: dict[str, list[str]],
    read_source: Callable[..., str | None],
) -> list[str]:
    """Why one question fails, in words for ``report.md``: the metrics say how often, this says where."""
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
    if false_not_specified(item, answer):
        problems.append("says the guideline gives no dose although its facts quote one (dose_not_specified)")
    bad = [q for q in answer.quotes if not quote_faithful(q, read_source)]
    if bad:
        problems.append(f"{len(bad)} quote(s) differ from the source at their offsets")
    return problems
