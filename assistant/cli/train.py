"""``train-ranker``: fit the learned ranker to this library's own gold questions and store it with its index."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import EXIT_INPUT, CorpusOpt, IndexOpt, app, err, escape, fail, load_assistant, settings_for
from assistant.errors import AssistantError


@app.command("train-ranker")
def train_ranker_command(
    gold: Annotated[
        list[Path], typer.Option("--gold", help="Gold questions (JSON Lines) with evidence strings; repeat for several files.")
    ],
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    ship: Annotated[
        bool, typer.Option("--ship", help="Write the package's shipped model (assistant/data/ranker.txt) instead.")
    ] = False,
) -> None:
    """Train the ranker on these gold questions and store it with this index; the next load uses it.

    Score it on guidelines it did not see: `eval --folds 5` trains on the other folds only.
    """
    from assistant.evaluation.gold import load_gold
    from assistant.evaluation.train_ranker import collect, fit, model_text
    from assistant.index.ranker_file import write_ranker_text
    from assistant.retrieval.ranker import SHIPPED_MODEL

    try:
        items = [item for path in gold for item in load_gold(path)]
    except (OSError, ValueError) as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    try:
        assistant = load_assistant(settings_for(corpus, index))
        data = collect(assistant.searcher, items)
        booster = fit(data)
    except ValueError as exc:
        err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    except AssistantError as exc:
        raise fail(exc) from None
    text = model_text(booster)
    if ship:
        SHIPPED_MODEL.write_text(text, encoding="utf-8")
        target = SHIPPED_MODEL
    else:
        try:
            target = write_ranker_text(assistant.settings.index_dir, text)
        except OSError as exc:
            err.print(f"[red]Error:[/red] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(EXIT_INPUT) from None
    err.print(
        escape(
            f"Trained on {len(data.learnable)} of {len(items)} gold questions (those with the answering statement "
            f"among the top {assistant.settings.rank_depth} candidates); stored in {target}. "
            + ("Every index without a ranker of its own uses it." if ship else "The next load of this index uses it.")
        ),
        soft_wrap=True,
    )
