"""The command line's shared parts: the Typer apps, consoles, options, progress bars and error exits.

Exit codes: 0 answered (an abstention is an answer), 1 the corpus, index or
model cannot be used, 2 the input cannot be answered as given (empty or
over-long question, bad option). Messages go to stderr; answers to stdout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from assistant.errors import AssistantError, InputError
from assistant.present.terminal import visible
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


def settings_for(corpus: Path | None, index: Path | None, **extra: Any) -> Settings:
    return Settings().with_overrides(corpus_dir=corpus, index_dir=index, **extra)


def escape(text: str) -> str:
    """Text for the terminal: rich markup escaped and every control or invisible character made visible.

    Control characters, bidirectional overrides and invisible characters would let guideline text
    change what the terminal shows ("1 g/kg" drawn as "10 g/kg"); the answer itself is drawn by
    :mod:`assistant.present.terminal`, which shows them the same way.
    """
    return _escape_markup(visible(text))


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
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr, fed by ``(done, total)`` callbacks: count, rate, time left."""
    with _progress(TextColumn(label)) as bar:
        task = bar.add_task(label, total=None, rate="")

        def update(done: int, total: int) -> None:
            speed = bar.tasks[0].speed
            bar.update(task, completed=done, total=total, rate=f"{speed:,.0f}/s" if speed else "")

        yield update


@contextmanager
def build_progress() -> Iterator[tuple[Callable[[int, int], None], Callable[[int, int, str], None]]]:
    """A build's progress on stderr in words: "Reading files 37/121", then "Embedding 2,400 / 25,762 · 118 statements/s · about 3 min left".

    On a terminal it is one live bar; in a log (``make index`` piped, CI) a plain line
    at each phase change and at most every 10 s, so a long build is never silent.
    """
    from assistant.present.build_progress import BuildProgress

    tracker = BuildProgress()
    if not err.is_terminal:
        printed: dict[str, Any] = {"phase": "", "at": 0.0}

        def log(force: bool = False) -> None:
            now, state = time.monotonic(), tracker.snapshot()
            if force or state.phase != printed["phase"] or now - printed["at"] >= 10:
                printed.update(phase=state.phase, at=now)
                err.print(escape(state.line()), soft_wrap=True)

        def file_logged(done: int, total: int, source: str) -> None:
            tracker.on_file(done, total, source)
            log(done == total)

        def statements_logged(done: int, total: int) -> None:
            tracker.on_statements(done, total)
            log(done == total)

        yield statements_logged, file_logged
        return
    with Progress(
        TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), TextColumn("[dim]{task.fields[current]}"),
        console=err, transient=True,
    ) as bar:
        task = bar.add_task("Starting the build", total=1, current="")

        def draw() -> None:
            state = tracker.snapshot()
            current = state.current[-40:] if state.phase == "reading" else ""
            bar.update(task, description=escape(state.line()), completed=state.fraction, current=escape(current))

        def on_file(done: int, total: int, source: str) -> None:
            tracker.on_file(done, total, source)
            draw()

        def on_statements(done: int, total: int) -> None:
            tracker.on_statements(done, total)
            draw()

        yield on_statements, on_file


def load_assistant(settings: Settings) -> Assistant:
    from assistant.ingest.preflight import check_corpus

    check_corpus(settings.corpus_dir)  # before importing the model stack: a missing corpus is said in under a second
    from assistant.assistant import Assistant

    with progress_bar("Embedding statements") as progress:
        return Assistant.load(
            settings=settings, progress=progress, notify=lambda m: err.print(f"[yellow]{escape(m)}", soft_wrap=True)
        )


def fail(exc: AssistantError) -> typer.Exit:
    # soft_wrap: one line whatever the width, so a long path is never folded in logs or pipes.
    err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
    return typer.Exit(EXIT_INPUT if isinstance(exc, InputError) else EXIT_FAILURE)


