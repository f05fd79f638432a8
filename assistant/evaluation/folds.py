"""Document-disjoint evaluation: folds by guideline, never by question.

Halving a gold set by question id (:func:`~assistant.evaluation.gold.split_gold`) lets both
halves ask about the same guidelines, so anything shaped on one half's documents (a rule, a
boost, a vocabulary entry, a trained ranker) lifts the other half too and the figures do not
warn. Here every item belongs to a *group*, the guideline its evidence comes from, and every
group falls in one fold:

* :func:`item_sources` names each item's group: the meta file's ``source`` when a meta file
  is given, else the source of the first statement containing one of its evidence strings
  (matched exactly as the evaluation matches evidence), else a group of its own
  (``"item:<id>"``: out-of-scope items, unmatched evidence).
* :func:`fold_of` is a pure function of the group name (sha256 mod n): the same guideline
  lands in the same fold in every gold set over one library, so two gold sets evaluated
  together never leak a guideline across folds.
* :func:`evaluate_folds` scores each fold's held-out items as its own set and aggregates
  mean and standard deviation across folds. Anything *trained* is trained on the other folds:
  ``assistant_for_fold(fold, training_items)`` returns the assistant to evaluate fold ``fold``
  with (by default the same, untrained assistant for every fold).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from assistant.evaluation.gold import GoldItem, normalize_fact
from assistant.evaluation.metrics import (
    NA,
    PRIMARY_METRIC,
    ItemResult,
    Metrics,
    evidence_recall,
    format_metric,
    quoted_text,
)
from assistant.evaluation.thresholds import Thresholds, check_thresholds, not_measured

if TYPE_CHECKING:
    from assistant.assistant import Assistant
    from assistant.ingest.chunking import Chunk

ITEM_GROUP_PREFIX = "item:"
DEFAULT_FOLDS = 5

# Counts (not rates): across folds they are gated and reported on their total, not their mean
# (a mean of 0.2 unsupported doses per fold would hide one real unsupported dose).
COUNT_METRICS = frozenset(
    {
        "quotes.count",
        "dose.unsupported_answers",
        "dose.forbidden_violations",
        "dose.false_not_specified",
        "gold.items",
        "gold.unmatched_evidence",
    }
)


# --------------------------------------------------------------------------- groups and folds


def default_meta_path(gold_path: str | Path) -> Path | None:
    """The meta file beside a gold file (``gold_dev.jsonl`` → ``gold_dev_meta.json``), or None if absent."""
    path = Path(gold_path)
    meta = path.with_name(f"{path.stem}_meta.json")
    return meta if meta.is_file() else None


def load_meta(path: str | Path) -> dict[str, dict[str, Any]]:
    """A meta file: ``{item id: {"source": file or null, "style": ..., ...}}``; a bad file raises ``ValueError``."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read meta file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, dict) or not all(isinstance(value, dict) for value in data.values()):
        raise ValueError(f"{path}: a meta file is a JSON object of item id → object (with 'source')")
    for item_id, value in data.items():
        source = value.get("source")
        if source is not None and not isinstance(source, str):
            raise ValueError(f"{path}: item {item_id!r}: 'source' must be a file name or null")
    return data


def item_sources(
    items: Sequence[GoldItem],
    meta: dict[str, dict[str, Any]] | None = None,
    chunks: Sequence[Chunk] | None = None,
) -> dict[str, str]:
    """Item id → its group: the guideline its evidence comes from, or ``"item:<id>"`` when it has none.

    The meta file's ``source`` wins; an item the meta does not name (or a gold file without
    meta) is grouped by the source of the first statement whose text contains one of its
    evidence strings, compared after :func:`~assistant.evaluation.gold.normalize_fact` as
    :func:`~assistant.evaluation.metrics.relevant_ids` compares them.
    """
    groups: dict[str, str] = {}
    unresolved: list[GoldItem] = []
    for item in items:
        entry = (meta or {}).get(item.id)
        if entry is not None and "source" in entry:
            source = entry.get("source")
            groups[item.id] = source if source else f"{ITEM_GROUP_PREFIX}{item.id}"
        elif item.abstain or not item.evidence or not chunks:
            groups[item.id] = f"{ITEM_GROUP_PREFIX}{item.id}"
        else:
            unresolved.append(item)
    if unresolved and chunks:
        # Normalised once: the library's statements are many, the unresolved items few.
        texts = [(chunk.source, normalize_fact(chunk.text)) for chunk in chunks]
        for item in unresolved:
            wanted = [normalize_fact(evidence) for evidence in item.evidence]
            source = next((src for src, text in texts if any(w in text for w in wanted)), None)
            groups[item.id] = source or f"{ITEM_GROUP_PREFIX}{item.id}"
    return {item.id: groups[item.id] for item in items}


def fold_of(group: str, n: int) -> int:
    """The fold a group falls in: sha256 of its name mod ``n``, the same in every gold set and run."""
    if n < 1:
        raise ValueError(f"the number of folds must be >= 1, got {n}")
    return int.from_bytes(hashlib.sha256(group.encode("utf-8")).digest()[:8], "big") % n


def assign_folds(groups: dict[str, str], n: int) -> dict[str, int]:
    """Item id → fold, every item of a group in its group's fold."""
    return {item_id: fold_of(group, n) for item_id, group in groups.items()}


def fold_split(items: Sequence[GoldItem], folds: dict[str, int], fold: int) -> tuple[list[GoldItem], list[GoldItem]]:
    """(training items: every other fold, held-out items: fold ``fold``), in the gold order."""
    train = [item for item in items if folds[item.id] != fold]
    held = [item for item in items if folds[item.id] == fold]
    return train, held


def concat_gold(sets: Iterable[tuple[str | Path, Sequence[GoldItem]]]) -> list[GoldItem]:
    """Several gold files' items in order; an id used in two files raises ``ValueError`` naming both."""
    seen: dict[str, str] = {}
    items: list[GoldItem] = []
    for path, part in sets:
        for item in part:
            if item.id in seen:
                raise ValueError(
                    f"gold id {item.id!r} occurs in both {seen[item.id]} and {path}; ids must be unique across --gold files"
                )
            seen[item.id] = str(path)
            items.append(item)
    return items


def item_styles(items: Sequence[GoldItem], meta: dict[str, dict[str, Any]] | None) -> dict[str, str]:
    """Item id → the meta file's ``style`` (lay, paraphrase, terse, ...), for the items that have one."""
    styles: dict[str, str] = {}
    for item in items:
        style = (meta or {}).get(item.id, {}).get("style")
        if isinstance(style, str) and style:
            styles[item.id] = style
    return styles


# --------------------------------------------------------------------------- per-style evidence recall


def breakdown(results: Sequence[ItemResult], styles: dict[str, str]) -> Metrics:
    """Answer evidence recall per style (``style.<s>.answer.evidence_recall``) and per tag (``tag.<t>....``)."""
    members: dict[str, list[ItemResult]] = {}
    for result in results:
        if result.item.abstain or not result.item.evidence:
            continue
        keys = [f"tag.{tag}" for tag in result.item.tags]
        if result.item.id in styles:
            keys.append(f"style.{styles[result.item.id]}")
        for key in keys:
            members.setdefault(key, []).append(result)
    scores: Metrics = {}
    for key, group in sorted(members.items()):
        evidence = {r.item.id: list(r.item.evidence) for r in group}
        quoted = {r.item.id: [quoted_text(r.answer)] for r in group}
        scores[f"{key}.answer.evidence_recall"] = evidence_recall(evidence, quoted)
        scores[f"{key}.items"] = float(len(group))
    return scores


# --------------------------------------------------------------------------- the cross-validated run


AssistantForFold = Callable[[int, list[GoldItem]], "Assistant"]


def evaluate_folds(
    assistant_for_fold: Assistant | AssistantForFold,
    items: Sequence[GoldItem],
    n: int,
    out_dir: str | Path,
    groups: dict[str, str] | None = None,
    styles: dict[str, str] | None = None,
    only: Sequence[int] | None = None,
    k: int | None = None,
    baselines: bool = False,
    thresholds: Thresholds | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Score every fold's held-out items as its own set; return (and write) per-fold, mean and std figures.

    ``assistant_for_fold(fold, training_items)`` gives the assistant to evaluate fold ``fold``
    with, trained (if at all) on ``training_items`` only; a plain ``Assistant`` is used for
    every fold. ``groups`` is :func:`item_sources`' output (default: grouped by the evidence
    source in the assistant's statements; required with a factory). Each fold's four files go to
    ``out_dir/fold-<i>/``; ``out_dir`` gets ``metrics.json`` (``folds.<i>.<metric>``,
    ``mean.<metric>``, ``std.<metric>``, ``total.<count>``) and ``report.md``. Folds with
    no held-out item are skipped. ``thresholds`` gate the means (counts: their totals).
    """
    from assistant.evaluation.runner import evaluate

    if n < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {n}")
    wanted = list(range(n)) if only is None else list(only)
    for fold in wanted:
        if not 0 <= fold < n:
            raise ValueError(f"fold {fold} is out of range: with {n} folds it is 0 to {n - 1}")
    items = list(items)
    pick = _assistant_picker(assistant_for_fold)
    if groups is None:
        if not hasattr(assistant_for_fold, "ask"):  # a factory would have to train before the folds exist
            raise ValueError("with a per-fold factory pass groups=item_sources(items, meta, chunks)")
        groups = item_sources(items, None, pick(wanted[0], []).searcher.chunks)
    folds = assign_folds(groups, n)
    styles = styles or {}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    held_out = {fold: fold_split(items, folds, fold) for fold in wanted}
    grand = sum(len(held) for _, held in held_out.values())
    offset = 0
    per_fold: dict[int, Metrics] = {}
    k_used = k
    for fold in wanted:
        train, held = held_out[fold]
        if not held:
            continue
        assistant = pick(fold, train)
        k_used = k if k is not None else assistant.settings.k
        results: list[ItemResult] = []

        def step(done: int, total: int, base: int = offset, size: int = len(held)) -> None:
            if progress:
                scale = total / size  # steps per item (the answer, plus one per baseline)
                progress(round((base + done / scale) * scale), round(grand * scale))

        metrics = evaluate(
            assistant, held, out / f"fold-{fold}", k=k, baselines=baselines, progress=step, results_out=results
        )
        metrics.update(breakdown(results, styles))
        per_fold[fold] = metrics
        offset += len(held)

    summary = aggregate(per_fold)
    gated = gated_metrics(summary)
    failures = check_thresholds(gated, thresholds) if thresholds is not None else []
    unmeasured = not_measured(gated, thresholds) if thresholds is not None else []
    group_folds: dict[str, int] = {group: fold_of(group, n) for group in sorted(set(groups.values()))}
    config = {
        "folds": n,
        "scored_folds": sorted(per_fold),
        "items_per_fold": {str(fold): len(held_out[fold][1]) for fold in wanted},
        "guidelines_per_fold": {
            str(fold): len({g for g, f in group_folds.items() if f == fold and not g.startswith(ITEM_GROUP_PREFIX)})
            for fold in wanted
        },
        "gold_items": len(items),
        "k": k_used,
        "baselines": baselines,
        "created_at": datetime.now().isoformat(timespec="seconds"),
    }
    record: dict[str, Any] = {
        "primary_metric": PRIMARY_METRIC,
        **summary,
        "threshold_failures": failures,
        "threshold_not_measured": unmeasured,
        "config": config,
        "groups": {item.id: groups[item.id] for item in items},
    }
    (out / "metrics.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    (out / "report.md").write_text(render_folds_report(summary, config, failures, unmeasured), encoding="utf-8")
    return record


def _assistant_picker(assistant_for_fold: Assistant | AssistantForFold) -> AssistantForFold:
    if hasattr(assistant_for_fold, "ask"):  # one fixed assistant for every fold
        fixed = cast("Assistant", assistant_for_fold)
        return lambda fold, train: fixed
    return cast(AssistantForFold, assistant_for_fold)


def aggregate(per_fold: dict[int, Metrics]) -> dict[str, Any]:
    """``{"folds": {i: metrics}, "mean": ..., "std": ..., "total": ...}`` over the folds that measured each metric.

    The standard deviation is the population one (``ddof=0``, as scikit-learn's cross-validation
    reports it); a metric n/a in every fold is None in ``mean`` and ``std``.
    """
    names = sorted({name for metrics in per_fold.values() for name in metrics})
    mean: Metrics = {}
    std: Metrics = {}
    total: Metrics = {}
    for name in names:
        values = [m[name] for m in per_fold.values() if m.get(name) is not None]
        measured = [float(v) for v in values if v is not None and not math.isnan(float(v))]
        mean[name] = round(float(np.mean(measured)), 6) if measured else None
        std[name] = round(float(np.std(measured)), 6) if measured else None
        if name in COUNT_METRICS:
            total[name] = float(sum(measured)) if measured else None
    return {
        "folds": {str(fold): metrics for fold, metrics in sorted(per_fold.items())},
        "mean": mean,
        "std": std,
        "total": total,
    }


def gated_metrics(summary: dict[str, Any]) -> Metrics:
    """What the thresholds see across folds: each metric's mean, and each count's total."""
    return {**summary["mean"], **summary["total"]}


# --------------------------------------------------------------------------- report.md


FOLD_ROWS = (
    ("answer.evidence_recall", "Answer evidence recall", "{:.3f}"),
    ("answer.fact_recall", "Answer fact recall", "{:.3f}"),
    ("retrieval.hit_rate@1", "Retrieval Hit@1", "{:.3f}"),
    ("retrieval.mrr", "Retrieval MRR", "{:.3f}"),
    ("retrieval.recall@k", "Retrieval recall@k", "{:.3f}"),
    ("abstention.recall", "Abstention recall", "{:.3f}"),
    ("abstention.precision", "Abstention precision", "{:.3f}"),
    ("answer.chars_quoted_mean", "Mean characters quoted", "{:.0f}"),
    ("quotes.fidelity", "Quote fidelity", "{:.3f}"),
    ("dose.unsupported_answers", "Answers stating a dose absent from the corpus", "{:.0f}"),
    ("dose.false_not_specified", "'No dose given' although one is", "{:.0f}"),
    ("dose.expected_flags_raised", "Expected dose flags raised", "{:.3f}"),
    ("latency.p50_ms", "Latency p50 (ms)", "{:.1f}"),
    ("gold.items", "Questions", "{:.0f}"),
)


def fold_table(summary: dict[str, Any], rows: Sequence[tuple[str, str, str]] = FOLD_ROWS) -> str:
    """Metric × fold, then mean ± std (and the total for counts), as Markdown."""
    folds: dict[str, Metrics] = summary["folds"]
    header = "| Metric | " + " | ".join(f"fold {fold}" for fold in folds) + " | mean ± std |"
    lines = [header, "|---|" + "---|" * (len(folds) + 1)]
    for key, title, spec in rows:
        if not any(key in metrics for metrics in folds.values()):
            continue
        cells = [format_metric(metrics.get(key), spec) for metrics in folds.values()]
        lines.append(f"| {title} | " + " | ".join(cells) + f" | {mean_std(summary, key, spec)} |")
    return "\n".join(lines)


def mean_std(summary: dict[str, Any], key: str, spec: str = "{:.3f}") -> str:
    """The mean ± std as text, e.g. "0.812 ± 0.031" (counts: "0.2 ± 0.4 (total 1)"), or "n/a".

    A metric only one fold could measure shows "(1 fold)" instead of a spread of 0.
    """
    value, spread = summary["mean"].get(key), summary["std"].get(key)
    if value is None:
        return NA
    measured = sum(metrics.get(key) is not None for metrics in summary["folds"].values())
    if key in COUNT_METRICS:
        text = f"{value:.1f} ± {spread:.1f}"
    else:
        text = f"{spec.format(value)} ± {spec.format(spread)}" if measured > 1 else f"{spec.format(value)} (1 fold)"
    total = summary["total"].get(key)
    return f"{text} (total {total:.0f})" if total is not None else text


def group_table(summary: dict[str, Any], kind: str) -> str:
    """Answer evidence recall per style or tag: each fold's value and the mean ± std."""
    prefix, suffix = f"{kind}.", ".answer.evidence_recall"
    names = sorted(
        {n[len(prefix) : -len(suffix)] for n in summary["mean"] if n.startswith(prefix) and n.endswith(suffix)}
    )
    if not names:
        return ""
    rows = [(f"{prefix}{name}{suffix}", name, "{:.3f}") for name in names]
    table = fold_table(summary, rows).replace("| Metric |", f"| {kind.capitalize()} (answer evidence recall) |", 1)
    counts = ", ".join(f"{name} {summary['mean'].get(f'{prefix}{name}.items', 0) or 0:.3g}" for name in names)
    return f"{table}\n\nMean answerable questions per fold: {counts}."


def render_folds_report(
    summary: dict[str, Any], config: dict[str, Any], failures: Sequence[str], unmeasured: Sequence[str] = ()
) -> str:
    scored = config["scored_folds"]
    skipped = [int(fold) for fold, count in config["items_per_fold"].items() if not count]
    sizes = ", ".join(
        f"fold {fold}: {config['items_per_fold'][str(fold)]} questions, {config['guidelines_per_fold'][str(fold)]} guideline(s)"
        for fold in sorted(int(f) for f in config["items_per_fold"])
    )
    parts = [
        "# Document-disjoint evaluation",
        "",
        f"{config['gold_items']} gold questions in {config['folds']} folds by guideline (every question about one "
        f"guideline in one fold; out-of-scope questions and questions whose evidence matches no statement spread by "
        f"id). Each fold's held-out questions are scored as their own set (`fold-<i>/report.md`); anything trained "
        f"is trained on the other folds. {sizes}."
        + (f" Skipped (no questions): {skipped}." if skipped else "")
        + f" {config['created_at']}",
        "",
        f"Primary metric `{PRIMARY_METRIC}`: **{mean_std(summary, PRIMARY_METRIC)}** (mean ± standard deviation over "
        f"{len(scored)} folds).",
        "",
        "## Thresholds (on the means; counts on their totals)",
        "",
        "All thresholds pass." if not failures else "\n".join(f"- FAIL {line}" for line in failures),
        *[f"- {line}" for line in unmeasured],
        "",
        "## By fold",
        "",
        fold_table(summary),
        "",
    ]
    for kind in ("style", "tag"):
        table = group_table(summary, kind)
        if table:
            parts += [f"## By {kind}", "", table, ""]
    return "\n".join(parts).rstrip() + "\n"
