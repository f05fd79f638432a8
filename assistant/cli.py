"""The ``guideline-assistant`` command line.

Exit codes: 0 answered (an abstention is an answer), 1 the corpus, index or
model cannot be used, 2 the input cannot be answered as given (empty or
over-long question, bad option). Messages go to stderr; answers to stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from assistant import present
from assistant.answer.schema import ABSTAIN_MESSAGE, Answer
from assistant.errors import AssistantError, InputError
from assistant.settings import Settings

EXIT_OK, EXIT_FAILURE, EXIT_INPUT = 0, 1, 2

app = typer.Typer(
    name="guideline-assistant",
    help="Quoted, cited answers from clinical guideline text, offline, with a dose guardrail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
index_app = typer.Typer(help="Build or inspect the search index.", no_args_is_help=True)
app.add_typer(index_app, name="index")

if TYPE_CHECKING:
    from assistant.assistant import Assistant
    from assistant.retrieval.followup import Conversation

out = Console()
err = Console(stderr=True)

CorpusOpt = Annotated[
    Path | None,
    typer.Option(
        "--corpus", help="Folder of guideline files (.pdf .md .txt .html) [default: the project's corpus/]."
    ),
]
IndexOpt = Annotated[Path | None, typer.Option("--index", help="Index folder [default: the project's index/].")]
KOpt = Annotated[int | None, typer.Option("--k", min=1, max=50, help="Passages retrieved before selection.")]


def _settings(corpus: Path | None, index: Path | None, **extra: Any) -> Settings:
    return Settings().with_overrides(corpus_dir=corpus, index_dir=index, **extra)


# Control characters (ANSI escapes, carriage returns, backspaces), bidirectional overrides and
# invisible characters would let guideline text change what the terminal shows ("1 g/kg" drawn
# as "10 g/kg"): each is shown as a visible \xNN or \uNNNN escape instead.
_SHOWN_ESCAPED = {
    code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x061C, *range(0x200B, 0x2010),
                 *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0xFEFF]
}


def escape(text: str) -> str:
    """Text for the terminal: rich markup escaped and every control or invisible character made visible."""
    return _escape_markup(text.replace("\r\n", "\n").translate(_SHOWN_ESCAPED))


def _progress(first: TextColumn, *extra: TextColumn) -> Progress:
    """A transient rich progress display on stderr: label, bar, count, rate, elapsed and time left."""
    columns = (
        first,
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        *extra,
    )
    return Progress(*columns, console=err, transient=True)


@contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, fed by ``(done, total)`` callbacks: count, rate, time left."""
    with _progress(TextColumn(label)) as bar:
        task = bar.add_task(label, total=None, rate="")

        def update(done: int, total: int) -> None:
            speed = bar.tasks[0].speed
            bar.update(task, completed=done, total=total, rate=f"{speed:,.0f}/s" if speed else "")

        yield update


@contextmanager
def _build_progress() -> Iterator[tuple[Callable[[int, int], None], Callable[[int, int, str], None]]]:
    """Two bars for a build: files read and parsed (with the current file), then statements embedded."""
    with _progress(TextColumn("{task.description}"), TextColumn("[dim]{task.fields[current]}")) as bar:
        files = bar.add_task("Reading files", total=None, rate="", current="")
        statements = bar.add_task("Embedding statements", total=None, rate="", current="", visible=False)

        def on_file(done: int, total: int, source: str) -> None:
            speed = bar.tasks[files].speed
            bar.update(files, completed=done, total=total, current=source[-40:], rate=f"{speed:,.1f} files/s" if speed else "")

        def on_statements(done: int, total: int) -> None:
            speed = bar.tasks[statements].speed
            bar.update(files, completed=bar.tasks[files].total or 0, current="")
            bar.update(statements, visible=True, completed=done, total=total, rate=f"{speed:,.0f}/s" if speed else "")

        yield on_statements, on_file


def _load_assistant(settings: Settings) -> Assistant:
    from assistant.ingest.preflight import check_corpus

    check_corpus(settings.corpus_dir)  # before importing the model stack: a missing corpus is said in under a second
    from assistant.assistant import Assistant

    with _progress_bar("Embedding statements") as progress:
        return Assistant.load(
            settings=settings, progress=progress, notify=lambda m: err.print(f"[yellow]{escape(m)}", soft_wrap=True)
        )


def _fail(exc: AssistantError) -> typer.Exit:
    # soft_wrap: one line whatever the width, so a long path is never folded in logs or pipes.
    err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(EXIT_INPUT if isinstance(exc, InputError) else EXIT_FAILURE)


# --------------------------------------------------------------------------- ask


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or '-' to read one question per line from stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON (one object per line).")] = False,
    k: KOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    doc: Annotated[
        list[str] | None,
        typer.Option("--doc", help="Answer only from this guideline (as in quotes[].source); repeatable."),
    ] = None,
    conversation: Annotated[
        bool,
        typer.Option(
            "--conversation",
            help="With '-': the lines are one conversation, so a follow-up like 'and in children?' keeps its subject.",
        ),
    ] = False,
) -> None:
    """Answer a question with quoted, cited guideline statements."""
    if question != "-":
        try:
            from assistant.retrieval.query import clean_question

            clean_question(question, Settings().max_question_chars)
        except InputError as exc:
            raise _fail(exc) from None
    try:
        assistant = _load_assistant(_settings(corpus, index))
    except AssistantError as exc:
        raise _fail(exc) from None
    if question == "-":
        talk = assistant.new_conversation() if conversation else None
        raise typer.Exit(_ask_batch(assistant, as_json, k, doc, talk))
    try:
        answer = assistant.ask(question, k=k, documents=doc)
    except AssistantError as exc:
        raise _fail(exc) from None
    if as_json:
        print(answer.model_dump_json())
    else:
        print_answer(answer)


def _ask_batch(
    assistant: Assistant,
    as_json: bool,
    k: int | None,
    documents: list[str] | None = None,
    conversation: Conversation | None = None,
) -> int:
    """One question per input line; blank lines skipped; a bad line reports its error and the rest go on."""
    status = EXIT_OK
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            answer = assistant.ask(line.rstrip("\n"), k=k, documents=documents, conversation=conversation)
        except AssistantError as exc:
            status = EXIT_INPUT if isinstance(exc, InputError) else EXIT_FAILURE
            if as_json:
                print(json.dumps({"line": number, "question": line.strip()[:200], "error": str(exc)}), flush=True)
            else:
                err.print(f"[red]Line {number}:[/red] {escape(str(exc))}")
            continue
        if as_json:
            print(answer.model_dump_json(), flush=True)
        else:
            out.rule(escape(answer.question[:80]))
            print_answer(answer)
    return status


def print_answer(answer: Answer) -> None:
    """Human-readable answer: flags first (they matter most), then quotes, then the dose table."""
    if answer.asked_as:
        out.print(f"[dim]Follow-up answered as: {escape(answer.asked_as)}[/]")
    for flag in answer.guardrail.flags:
        colour = {"block": "red", "warn": "yellow"}.get(flag.severity.value, "cyan")
        out.print(f"[bold {colour}]{flag.severity.value.upper()} {flag.code.value}:[/] {escape(flag.message)}")
    if answer.abstained or not answer.quotes:
        out.print(Panel(escape(answer.lead or ABSTAIN_MESSAGE), title="Not in the guideline", border_style="blue"))
        return
    if answer.summary_withheld:
        out.print(f"[red]{escape(present.WITHHELD_NOTICE)}[/red]")
    if answer.summary and not answer.summary_withheld:
        out.print(escape(answer.summary))
    for note in answer.notes:
        out.print(escape(note))
    out.print(escape(answer.lead))
    for quote in answer.quotes:
        chips = present.citation_chips(quote.citations)
        body = (f"[dim italic]{escape(quote.context)}[/]\n" if quote.context else "") + escape(quote.text)
        where = present.quote_location(quote)
        out.print(Panel(body, title=escape(chips) or None, subtitle=escape(where), title_align="left", subtitle_align="right"))
    if answer.doses:
        out.print(dose_table(answer))
    out.print(f"[dim]Citations: {escape(', '.join(answer.citations)) or 'none'} · {answer.timings_ms.get('total', 0):.0f} ms[/]")


def dose_table(answer: Answer) -> Table:
    table = Table(title="Doses in the quoted statements", title_justify="left")
    for column in present.DOSE_COLUMNS:
        table.add_column(column)
    for cells in present.dose_cells(answer):
        table.add_row(*(escape(cell) for cell in cells))
    return table


# --------------------------------------------------------------------------- index


@index_app.command("build")
def index_build(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    if_needed: Annotated[bool, typer.Option("--if-needed", help="Only build when missing or stale.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Re-read and re-embed every file, even unchanged ones.")] = False,
) -> None:
    """Parse, chunk and embed the corpus into the index (unchanged files reused; atomically replacing the old one)."""
    from assistant.assistant import Assistant

    try:
        settings = _settings(corpus, index)
        if if_needed:
            status = Assistant.index_status(settings)
            if status.up_to_date:
                err.print(f"Index in {settings.index_dir} is up to date.")
                return
            err.print(f"[yellow]{escape(status.reason)}[/yellow]")
        with _build_progress() as (progress, file_progress):
            loaded = Assistant.build(settings, progress, file_progress=file_progress, incremental=not full)
    except AssistantError as exc:
        raise _fail(exc) from None
    manifest = loaded.manifest
    for problem in manifest.problems:
        err.print(f"[yellow]Skipped:[/yellow] {escape(problem)}", soft_wrap=True)
    for note in manifest.notes:
        err.print(f"[dim]Note: {escape(note)}[/dim]", soft_wrap=True)
    pages = sum(meta.pages or 0 for meta in loaded.documents)
    reused = f"; {manifest.reused_documents} unchanged document(s) reused" if manifest.reused_documents else ""
    err.print(
        f"Built {manifest.n_chunks} chunks from {manifest.n_documents} document(s) ({pages} PDF pages{reused}) "
        f"in {manifest.build_seconds:.1f} s → {settings.index_dir}"
    )


@index_app.command("status")
def index_status_command(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
    check: Annotated[bool, typer.Option("--check", help="Exit 1 when the index is missing, stale or corrupt.")] = False,
) -> None:
    """Documents, chunks, model, build time, and whether the index is up to date."""
    from assistant.assistant import Assistant

    try:
        settings = _settings(corpus, index)
    except AssistantError as exc:
        raise _fail(exc) from None
    status = Assistant.index_status(settings)
    manifest = status.manifest
    documents = Assistant.documents(settings) if manifest else []
    data = {
        "index": str(status.directory),
        "exists": status.exists,
        "up_to_date": status.up_to_date,
        "reason": status.reason,
        "documents": sorted(manifest.corpus) if manifest else [],
        "chunks": manifest.n_chunks if manifest else 0,
        "model": manifest.model if manifest else None,
        "dimension": manifest.model_dimension if manifest else None,
        "built_at": manifest.created_at if manifest else None,
        "problems": manifest.problems if manifest else [],
        "notes": manifest.notes if manifest else [],
        "document_details": [
            {
                "source": meta.source,
                "title": meta.title,
                "kind": meta.kind,
                "statements": meta.statements,
                "pages": meta.pages,
                "references": len(meta.references),
                "publisher": meta.publisher,
                "year": meta.year,
            }
            for meta in documents
        ],
    }
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        table = Table(show_header=False, title="Index status", title_justify="left")
        for key in ("index", "exists", "up_to_date", "reason", "chunks", "model", "built_at"):
            table.add_row(key, escape(str(data[key]) or "—"))
        out.print(table)
        if documents:
            listing = Table(title=f"{len(documents)} documents", title_justify="left")
            for column in ("Source", "Title", "Statements", "Pages", "References"):
                listing.add_column(column)
            for meta in documents:
                listing.add_row(
                    escape(meta.source), escape(meta.title[:60]), str(meta.statements), str(meta.pages or "—"),
                    str(len(meta.references) or "—"),
                )
            out.print(listing)
        for problem in manifest.problems if manifest else []:
            out.print(f"[yellow]Skipped:[/yellow] {escape(problem)}", soft_wrap=True)
        for note in manifest.notes if manifest else []:
            out.print(f"[dim]Note: {escape(note)}[/dim]", soft_wrap=True)
    if check and not status.up_to_date:
        raise typer.Exit(EXIT_FAILURE)


# --------------------------------------------------------------------------- eval and bench


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
        assistant = _load_assistant(_settings(corpus, index))
        with _progress_bar("Evaluating") as progress:
            metrics = evaluate(assistant, items, target, k=k, baselines=baselines, thresholds=gates, progress=progress)
    except AssistantError as exc:
        raise _fail(exc) from None
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
        assistant = _load_assistant(_settings(corpus, index))
        with _progress_bar("Conversations") as progress:
            report = conv.render_conversation_report(conv.score_conversations(assistant, cases, k, progress))
    except ValueError as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_INPUT) from None
    except AssistantError as exc:
        raise _fail(exc) from None
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
            _settings(corpus, index),
            **options,
            with_contention=contention,
            notify=lambda message: err.print(f"[dim]{escape(message)}[/dim]"),
            figure=lambda line: print(line, file=sys.stderr, flush=True),
        )
    except AssistantError as exc:
        raise _fail(exc) from None
    text = json.dumps(report, indent=2)
    if out_file is not None:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_text(text + "\n", encoding="utf-8")
    print(text)


@app.command("serve")
def serve_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    workers: Annotated[int, typer.Option("--workers", help="Processes, each loading the same index.")] = 1,
) -> None:
    """Serve the HTTP JSON API: POST /ask, GET /documents, GET /health, docs at /docs."""
    from assistant.api import check_address, serve

    settings = _settings(corpus, index)
    try:
        check_address(host, port)  # in milliseconds, before the model loads
        loaded = _load_assistant(settings) if workers == 1 else None
        serve(settings, host, port, workers, loaded, notify=lambda m: err.print(f"[yellow]{escape(m)}", soft_wrap=True))
    except AssistantError as exc:
        raise _fail(exc) from None


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
