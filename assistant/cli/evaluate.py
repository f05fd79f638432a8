"""``eval``, ``eval-conversations``, ``calibrate`` and ``bench``: measured figures, never guesses."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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

if TYPE_CHECKING:
    from assistant.evaluation.metrics import Metrics
    from assistant.settings import Settings


@app.command("eval")
def eval_command(
    gold: Annotated[
        list[Path] | None,
        typer.Option(
            "--gold", help="Gold questions, JSON Lines (default: evals/gold.jsonl); repeat to score several together."
        ),
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
    folds: Annotated[
        int | None,
        typer.Option(
            "--folds", help="Document-disjoint cross-validation: N folds by guideline, each scored, mean ± std gated."
        ),
    ] = None,
    fold: Annotated[
        int | None, typer.Option("--fold", help="Score only fold I (0-based) of the --folds split (default 5 folds).")
    ] = None,
    train_ranker: Annotated[
        bool,
        typer.Option(
            "--train-ranker",
            help="With --folds: answer each fold with a ranker trained on the other folds' questions only "
            "(the honest figure for a ranker trained on this gold set).",
        ),
    ] = False,
    meta: Annotated[
        list[Path] | None,
        typer.Option(
            "--meta",
            help="Meta file naming each item's source guideline (default: <gold>_meta.json beside each gold file; "
            "without one, items are grouped by the source of their evidence).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Write into a non-empty --out folder an evaluation did not create.")
    ] = False,
) -> None:
    """Score the assistant on a gold set; write answers.jsonl, metrics.json, report.md, report.png.

    With --folds N the questions are split into N folds by guideline (never by question) and every
    fold is scored on its own (fold-<i>/ in the output folder); metrics.json and report.md give each
    fold's figures and the mean ± standard deviation, and the thresholds gate the means.
    Exits 1 when a metric is outside the bounds in the thresholds file, so CI can gate on it.
    """
    from assistant.evaluation.folds import (
        DEFAULT_FOLDS,
        assign_folds,
        concat_gold,
        default_meta_path,
        evaluate_folds,
        gated_metrics,
        item_sources,
        item_styles,
        load_meta,
    )
    from assistant.evaluation.gold import load_gold, split_gold
    from assistant.evaluation.out_folder import claim_out_folder
    from assistant.evaluation.runner import default_out_dir, evaluate
    from assistant.evaluation.thresholds import DEFAULT_THRESHOLDS, check_thresholds, gate_summary, load_thresholds
    from assistant.settings import PROJECT_ROOT

    gold_files = list(gold or [PROJECT_ROOT / "evals" / "gold.jsonl"])
    cross = folds is not None or fold is not None
    n = DEFAULT_FOLDS if folds is None else folds
    try:
        if cross and split != "all":
            raise ValueError("--split and --folds/--fold are two ways to hold questions out; use one")
        if train_ranker and not cross:
            raise ValueError("--train-ranker needs --folds or --fold: a ranker is trained on the other folds")
        if cross and n < 2:
            raise ValueError(f"--folds must be at least 2, got {n}")
        if fold is not None and not 0 <= fold < n:
            raise ValueError(f"--fold must be between 0 and {n - 1} (with --folds {n}), got {fold}")
        items = split_gold(concat_gold((path, load_gold(path)) for path in gold_files), split)
        meta_files = list(meta) if meta else [p for p in map(default_meta_path, gold_files) if p is not None]
        item_meta = {key: value for path in meta_files for key, value in load_meta(path).items()}
        gates = load_thresholds(thresholds or DEFAULT_THRESHOLDS)
    except ValueError as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    if not items:
        err.print("[red]Error:[/red] the gold file holds no questions.")
        raise typer.Exit(EXIT_INPUT)
    target = out_dir or default_out_dir()
    try:
        claim_out_folder(target, force)
    except (ValueError, OSError) as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    try:
        assistant = load_assistant(settings_for(corpus, index))
        if cross:
            groups = item_sources(items, item_meta, assistant.searcher.chunks)
            if fold is not None and not any(f == fold for f in assign_folds(groups, n).values()):
                err.print(f"[red]Error:[/red] fold {fold} of {n} holds no questions of this gold set.")
                raise typer.Exit(EXIT_INPUT)
            answering: Any = assistant
            if train_ranker:
                from assistant.evaluation.train_ranker import fold_trainer

                answering = fold_trainer(assistant, items)
            with progress_bar("Evaluating folds") as progress:
                record = evaluate_folds(
                    answering,
                    items,
                    n,
                    target,
                    groups=groups,
                    styles=item_styles(items, item_meta),
                    only=None if fold is None else [fold],
                    k=k,
                    baselines=baselines,
                    thresholds=gates,
                    progress=progress,
                )
        else:
            with progress_bar("Evaluating") as progress:
                metrics = evaluate(
                    assistant, items, target, k=k, baselines=baselines, thresholds=gates, progress=progress
                )
    except AssistantError as exc:
        raise fail(exc) from None
    if cross:
        _print_folds(record)
        gated = gated_metrics(record)
        written = "metrics.json and report.md (each fold's four files in fold-<i>/)"
    else:
        _print_run(metrics, k or assistant.settings.k)
        gated = metrics
        written = "answers.jsonl, metrics.json, report.md and report.png"
    failures = check_thresholds(gated, gates)
    err.print(f"Wrote {written} to {target}", soft_wrap=True)
    if failures:
        for line in failures:
            err.print(f"[red]FAIL[/red] {escape(line)}")
        raise typer.Exit(EXIT_FAILURE)
    err.print(f"[green]{escape(gate_summary(gated, gates))}[/green]")


def _print_run(metrics: Metrics, k: int) -> None:
    from assistant.evaluation.metrics import format_metric
    from assistant.evaluation.report import SYSTEM_COLUMNS, system_rows, system_table

    if out.is_terminal:
        systems = Table(title="Retrieval: assistant vs baselines", title_justify="left")
        systems.add_column("System")
        for _, title in SYSTEM_COLUMNS:
            systems.add_column(title, justify="right")
        for label, cells in system_rows(metrics, k=k):
            systems.add_row(escape(label), *cells)
        out.print(systems)
    else:  # a pipe or CI log: the Markdown table, unwrapped
        print(system_table(metrics, k=k))
    table = Table(title="Assistant answers", title_justify="left")
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    for name, value in metrics.items():
        if not name.startswith(("baseline.", "retrieval.")):
            table.add_row(name, format_metric(value))
    out.print(table)


def _print_folds(record: dict[str, Any]) -> None:
    """Each fold's main figures and the mean ± std; style and tag tables when the gold set has them."""
    from assistant.evaluation.folds import fold_table, group_table

    tables = [fold_table(record)] + [group_table(record, kind) for kind in ("style", "tag")]
    print("\n\n".join(table for table in tables if table))


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
    build: Annotated[
        bool, typer.Option("--build", help="Only the build figures: parsing, sorted vs document-order encoding, cache.")
    ] = False,
    build_sample: Annotated[int, typer.Option("--build-sample", min=8, help="Statements for the encoder comparison.")] = 768,
) -> None:
    """Latency idle and under CPU load, cold start, build and scale: one line per figure on stderr, JSON on stdout."""
    from assistant.evaluation.bench import preset, run_bench

    if build:
        _bench_build(settings_for_or_fail(corpus, index), build_sample, contention, out_file)
        return
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
    _emit(report, out_file)


def _emit(report: dict[str, Any], out_file: Path | None) -> None:
    """A bench report as JSON on stdout, and into ``--out`` when given (both bench kinds print the same way)."""
    text = json.dumps(report, indent=2)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text + "\n", encoding="utf-8")
    print(text)


def settings_for_or_fail(corpus: Path | None, index: Path | None) -> Settings:
    try:
        return settings_for(corpus, index)
    except AssistantError as exc:
        raise fail(exc) from None


def _bench_build(settings: Settings, sample: int, burner: bool, out_file: Path | None) -> None:
    """``bench --build``: the library's build figures as ratios within this one run."""
    from assistant.evaluation.bench_build import build_bench

    try:
        report = build_bench(
            settings,
            sample=sample,
            with_burner=burner,
            say=lambda message: err.print(f"[dim]{escape(message)}[/dim]"),
            figure=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except AssistantError as exc:
        raise fail(exc) from None
    _emit(report, out_file)


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
