"""The report: what a person (or CI) reads after a run, rendered from the metrics and item results.

``metrics.json`` for machines, ``report.md`` with the tables and every failing question,
``report.png`` with the main metrics per system. The same tables are printed by the CLI
and pasted into the README, so they are rendered here once, from the metric names alone.
A metric that is None had nothing to measure and is shown as "n/a", never as a number.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from assistant.evaluation.metrics import NA, PRIMARY_METRIC, SYSTEM_METRICS, ItemResult, Metrics, format_metric


def write_report(
    out: Path,
    metrics: Metrics,
    results: list[ItemResult],
    labels: dict[str, str],
    config: dict[str, Any],
    threshold_failures: list[str],
    unmatched: list[str],
    system_scores: dict[str, Metrics],
    threshold_not_measured: Sequence[str] = (),
) -> None:
    """Write ``metrics.json``, ``report.md`` and ``report.png`` to ``out`` (``answers.jsonl`` is the runner's).

    ``threshold_not_measured`` are the gates whose metric is n/a: listed, so a reader sees
    which gates this gold set could not exercise, but not failures.
    """
    (out / "metrics.json").write_text(
        json.dumps(
            {
                "primary_metric": PRIMARY_METRIC,
                "metrics": metrics,
                "threshold_failures": threshold_failures,
                "threshold_not_measured": list(threshold_not_measured),
                "config": config,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    (out / "report.md").write_text(
        render_report(metrics, results, labels, config, threshold_failures, unmatched, threshold_not_measured),
        encoding="utf-8",
    )
    render_chart(metrics, system_scores, labels, out / "report.png", config["corpus_chars"])


# --------------------------------------------------------------------------- tables


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
    metrics: Metrics, labels: dict[str, str] | None = None, k: int | None = None
) -> list[tuple[str, list[str]]]:
    """(system label, formatted cells) for the assistant, its retrieval and every baseline in ``metrics``.

    A cell is "n/a" when the metric was computed but had nothing to measure, and "—" when the
    system has no such metric (the answer row has no Hit@1).
    """
    from assistant.evaluation.baselines import LABELS

    labels = {**LABELS, **(labels or {})}
    answer_names = {
        "evidence_recall": "answer.evidence_recall",
        "chars_mean": "answer.chars_quoted_mean",
        "chars_share": "answer.chars_quoted_share",
    }
    rows: list[tuple[str, dict[str, str]]] = [
        ("Assistant answer (verbatim quotes)", answer_names),
        (f"Assistant retrieval (hybrid, top {k or 'k'})", {n: f"retrieval.{n}" for n, _ in SYSTEM_COLUMNS}),
    ]
    for name in sorted({name.split(".")[1] for name in metrics if name.startswith("baseline.")}):
        rows.append((labels.get(name, name), {n: f"baseline.{name}.{n}" for n, _ in SYSTEM_COLUMNS}))
    return [
        (label, [_cell(column, metrics, names.get(column)) for column, _ in SYSTEM_COLUMNS]) for label, names in rows
    ]


def system_table(metrics: Metrics, labels: dict[str, str] | None = None, k: int | None = None) -> str:
    """The assistant-vs-baselines Markdown table (also pasted into the README)."""
    lines = [
        "| System | " + " | ".join(title for _, title in SYSTEM_COLUMNS) + " |",
        "|" + "---|" * (len(SYSTEM_COLUMNS) + 1),
    ]
    lines += [f"| {label} | " + " | ".join(cells) + " |" for label, cells in system_rows(metrics, labels, k)]
    return "\n".join(lines)


def _cell(column: str, metrics: Metrics, name: str | None) -> str:
    if name is None or name not in metrics:
        return "—"
    value = metrics[name]
    if value is None:
        return NA
    if math.isnan(value):
        return "—"
    if column == "chars_mean":
        return f"{value:.0f}"
    if column == "chars_share":
        return f"{100 * value:.1f}%"
    return f"{value:.3f}"


def answer_table(metrics: Metrics) -> str:
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
        ("'No dose given' although the guideline gives one (must be 0)", "dose.false_not_specified", "{:.0f}"),
        ("Mean characters quoted per answer", "answer.chars_quoted_mean", "{:.0f}"),
        ("Latency p50 (ms, whole chain)", "latency.p50_ms", "{:.1f}"),
        ("Latency p95 (ms, whole chain)", "latency.p95_ms", "{:.1f}"),
        ("Query embedding p50 (ms)", "latency.embed_p50_ms", "{:.1f}"),
        ("Learned ranking p50 (ms)", "latency.rank_p50_ms", "{:.1f}"),
    ]
    lines = ["| Metric | Value |", "|---|---|"]
    lines += [f"| {title} | {format_metric(metrics[key], fmt)} |" for title, key, fmt in rows if key in metrics]
    return "\n".join(lines)


# --------------------------------------------------------------------------- report.md


def render_report(
    metrics: Metrics,
    results: list[ItemResult],
    labels: dict[str, str],
    config: dict[str, Any],
    threshold_failures: list[str],
    unmatched: list[str],
    threshold_not_measured: Sequence[str] = (),
) -> str:
    k = config["k"]
    failed = [r for r in results if r.failures]
    parts = [
        "# Evaluation report",
        "",
        f"{config['gold_items']} gold questions · k = {k} · model `{config['model']}` · "
        f"{config['chunks']} statements, {config['corpus_chars']} characters of guideline text · {config['created_at']}",
        "",
        f"Primary metric `{PRIMARY_METRIC}` = **{format_metric(metrics.get(PRIMARY_METRIC), '{:.3f}')}**.",
        "",
        "## Thresholds",
        "",
        (
            "All thresholds pass."
            if not threshold_failures
            else "\n".join(f"- FAIL {line}" for line in threshold_failures)
        ),
        *[f"- {line}" for line in threshold_not_measured],
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


# --------------------------------------------------------------------------- report.png


def render_chart(
    metrics: Metrics,
    system_scores: dict[str, Metrics],
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
        values = [row.get(metric) or 0.0 for metric, _ in quality]
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
    answer_values = [metrics.get(key) for key, _ in answer_metrics]
    axes[2].bar([title for _, title in answer_metrics], [value or 0.0 for value in answer_values], color="C0")
    for position, missing in enumerate(value is None for value in answer_values):
        if missing:  # an empty bar must not read as a score of 0
            axes[2].text(position, 0.02, NA, ha="center", fontsize=8, color="grey")
    axes[2].set_ylim(0, 1.05)
    axes[2].set_title("Assistant answers")
    axes[2].tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(label: str) -> str:
    return re.sub(r"\s*\(.*\)$", "", label)
