"""``eval``, ``eval-conversations``, ``calibrate`` and ``bench``: measured figures, never guesses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from assistant.cli.common import (
    EXIT_FAILURE,
    EXIT_INPUT,
    CorpusOpt,
    IndexOpt,
    KOpt,
    app,
    err,
    escape,
    fail,
    load_assistant,
    out,
    progress_bar,
    settings_for,
)
from assistant.errors import AssistantError


@app.command("eval")
def eval_command(
    gold: Annotated[
        Path | None, typer.Option("--gold", help="Gold questions, JSON Lines (default: evals/gold.jsonl).")
    ] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default: evals/runs/<timestamp>/).")
    ] = None,
    k: KOpt = None,
    baselines: Annotated[
        bool, typer.Option("--baselines", help="Also score the LangChain recipe, BM25 only and dense only.")
    ] = False,
    thresholds: Annotated[
        Path | None, typer.Option("--thresholds", help="Gates file (default: evals/thresholds.toml).")
    ] = None,
    split: Annotated[
        str, typer.Option("--split", help="all, or a fixed half of the gold set: tune (to adjust on) or check.")
    ] = "all",
) -> None:
    """Score the assistant on a gold set; write answers.jsonl, metrics.json, report.md, report.png.

    Exits 1 when a metric is outside the bounds in the thresholds file, so CI can gate on it.
    """
    from assistant.evaluation.gold import load_gold, split_gold
    from assistant.evaluation.metrics import format_metric
    from assistant.evaluation.report import SYSTEM_COLUMNS, system_rows, system_table
    from assistant.evaluation.runner import default_out_dir, evaluate
    from assistant.evaluation.thresholds import DEFAULT_THRESHOLDS, check_thresholds, gate_summary, load_thresholds
    from assistant.settings import PROJECT_ROOT

    try:
        items = split_gold(load_gold(gold or PROJECT_ROOT / "evals" / "gold.jsonl"), split)
        gates = load_thresholds(thresholds or DEFAULT_THRESHOLDS)
    except ValueError as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_INPUT) from None
    if not items:
        err.print("[red]Error:[/red] the gold file holds no questions.")
        raise typer.Exit(EXIT_INPUT)
    target = out_dir or default_out_dir()
    try:
        assistant = load_assistant(settings_for(corpus, index))
        with progress_bar("Evaluating") as progress:
            metrics = evaluate(assistant, items, target, k=k, baselines=baselines, thresholds=gates, progress=progress)
    except AssistantError as exc:
        raise fail(exc) from None
    if out.is_terminal:
        systems = Table(title="Retrieval: assistant vs baselines", title_justify="left")
        systems.add_column("System")
        for _, title in SYSTEM_COLUMNS:
            systems.add_column(title, justify="right")
        for label, cells in system_rows(metrics, k=k or assistant.settings.k):
            systems.add_row(escape(label), *cells)
        out.print(systems)
    else:  # a pipe or CI log: the Markdown table, unwrapped
        print(system_table(metrics, k=k or assistant.settings.k))
    table = Table(title="Assistant answers", title_justify="left")
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    for name, value in metrics.items():
        if not name.startswith(("baseline.", "retrieval.")):
            table.add_row(name, format_metric(value))
    out.print(table)
    failures = check_thresholds(metrics, gates)
    err.print(f"Wrote answers.jsonl, metrics.json, report.md and report.png to {target}")
    if failures:
        for line in failures:
            err.print(f"[red]FAIL[/red] {escape(line)}")
        raise typer.Exit(EXIT_FAILURE)
    err.print(f"[green]{escape(gate_summary(metrics, gates))}[/green]")


@app.command("eval-conversations")
def eval_conversations_command(
    file: Annotated[
        Path | None, typer.Argument(help="Conversations, JSON Lines (default: evals/conversations.jsonl).")
    ] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    k: KOpt = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the Markdown report here.")] = None,
) -> None:
    """Ask multi-turn conversations (follow-up questions) and print per-turn pass rates and failing turns."""
    from assistant.evaluation import conversations as conv

    try:
        cases = conv.load_conversations(file or conv.DEFAULT_CONVERSATIONS)
        assistant = load_assistant(settings_for(corpus, index))
        with progress_bar("Conversations") as progress:
            report = conv.render_conversation_report(conv.score_conversations(assistant, cases, k, progress))
    except ValueError as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_INPUT) from None
    except AssistantError as exc:
        raise fail(exc) from None
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(report, encoding="utf-8")
    print(report, end="")


@app.command("bench")
def bench_command(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    full: Annotated[bool, typer.Option("--full", help="The long run (100,000 statements) instead of ~2 minutes.")] = False,
    scale: Annotated[int | None, typer.Option("--scale", min=1, help="Synthetic statements for the scale test.")] = None,
    embed_sample: Annotated[int | None, typer.Option("--embed-sample", min=1, help="Statements embedded for real.")] = None,
    embed_budget: Annotated[float | None, typer.Option("--embed-budget", min=0, help="Embed all if within N s.")] = None,
    rounds: Annotated[int | None, typer.Option("--rounds", min=1, help="Passes over the questions.")] = None,
    cold_runs: Annotated[int | None, typer.Option("--cold-runs", min=0, help="Fresh processes for cold start.")] = None,
    contention: Annotated[bool, typer.Option(help="Also measure beside a CPU burner on every core.")] = True,
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the JSON to this file.")] = None,
) -> None:
    """Latency idle and under CPU load, cold start, build and scale: one line per figure on stderr, JSON on stdout."""
    from assistant.evaluation.bench import preset, run_bench

    options = preset(full, scale=scale, embed_sample=embed_sample, embed_budget_s=embed_budget, rounds=rounds, cold_runs=cold_runs)
    try:
        report = run_bench(
            settings_for(corpus, index),
            **options,
            with_contention=contention,
            notify=lambda message: err.print(f"[dim]{escape(message)}[/dim]"),
            figure=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except AssistantError as exc:
        raise fail(exc) from None
    text = json.dumps(report, indent=2)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text + "\n", encoding="utf-8")
    print(text)


@app.command("calibrate")
def calibrate_command(
    gold: Annotated[Path, typer.Option("--gold", help="Gold questions (JSON Lines) with answerable and out-of-scope items.")],
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    split: Annotated[
        str, typer.Option("--split", help="The gold half to calibrate on: tune (default), check or all.")
    ] = "tune",
) -> None:
    """Choose this library's abstention bars on a gold set and store them with its index.

    Report the other half with `eval --split check` afterwards: the calibration never saw it.
    """
    from assistant.evaluation.calibrate import calibrate, describe
    from assistant.evaluation.gold import load_gold, split_gold

    try:
        items = split_gold(load_gold(gold), split)
    except (OSError, ValueError) as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    if not any(item.abstain for item in items) or all(item.abstain for item in items):
        err.print("[red]Error:[/red] calibration needs both answerable and out-of-scope (abstain) questions.")
        raise typer.Exit(EXIT_INPUT)
    try:
        assistant = load_assistant(settings_for(corpus, index))
        record = calibrate(assistant, items, gold.name, split)
    except AssistantError as exc:
        raise fail(exc) from None
    err.print(escape(describe(record, assistant.settings.index_dir)), soft_wrap=True)
