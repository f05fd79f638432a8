"""``feedback export``: clinicians' verdicts kept beside the index, written as a gold file.

The gold file is what ``eval``, ``calibrate`` and ``train-ranker`` read
(:class:`~assistant.evaluation.gold.GoldItem`): the question, the statement that
answers it as its evidence, or ``abstain`` for "not in these guidelines". When a
question was judged more than once, the latest verdict is the one exported.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import EXIT_INPUT, IndexOpt, app, err, escape, settings_for

feedback_app = typer.Typer(help="Clinicians' feedback on answers: export it as gold questions.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")
FEEDBACK_TAG = "feedback"


@feedback_app.command("export")
def export_command(
    out_file: Annotated[Path, typer.Option("--out", help="The gold file to write (JSON Lines).")],
    index: IndexOpt = None,
) -> None:
    """Write the feedback recorded beside the index as a gold JSONL for eval, calibrate and train-ranker."""
    from assistant.evaluation.gold import GoldItem
    from assistant.index.feedback import feedback_path, read_feedback

    settings = settings_for(None, index)
    source = feedback_path(settings.index_dir)
    records, problems = read_feedback(source)
    for problem in problems:
        err.print(f"[yellow]Skipped:[/yellow] {escape(problem)}", soft_wrap=True)
    latest = {record.question: record for record in records}  # in file order: the last verdict wins
    items = [
        GoldItem(
            id="fb-" + hashlib.sha1(record.question.encode("utf-8")).hexdigest()[:10],
            question=record.question,
            evidence=[record.evidence] if record.evidence and not record.abstain else [],
            abstain=record.abstain,
            tags=[FEEDBACK_TAG],
        )
        for record in latest.values()
        if record.abstain or record.evidence
    ]
    if not items:
        err.print(f"[red]Error:[/red] no feedback to export in {escape(str(source))}.", soft_wrap=True)
        raise typer.Exit(EXIT_INPUT)
    try:
        out_file.write_text("".join(json.dumps(item.model_dump(exclude_defaults=True)) + "\n" for item in items), "utf-8")
    except OSError as exc:
        err.print(f"[red]Error:[/red] cannot write {escape(str(out_file))} ({escape(exc.strerror or str(exc))}).")
        raise typer.Exit(EXIT_INPUT) from None
    err.print(f"{len(items)} gold question(s) from {len(records)} verdict(s) written to {escape(str(out_file))}.")
