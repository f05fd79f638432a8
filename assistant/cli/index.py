"""``index build`` and ``index status``."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from assistant.cli.common import (
    EXIT_FAILURE,
    CorpusOpt,
    IndexOpt,
    build_progress,
    err,
    escape,
    fail,
    index_app,
    out,
    settings_for,
)
from assistant.errors import AssistantError
from assistant.settings import Settings


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
        settings = settings_for(corpus, index)
        if if_needed:
            status = Assistant.index_status(settings)
            if status.up_to_date:
                err.print(f"Index in {settings.index_dir} is up to date.")
                return
            err.print(f"[yellow]{escape(status.reason)}[/yellow]")
        with build_progress() as (progress, file_progress):
            loaded = Assistant.build(settings, progress, file_progress=file_progress, incremental=not full)
    except AssistantError as exc:
        raise fail(exc) from None
    _audit_build(settings)
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
        settings = settings_for(corpus, index)
    except AssistantError as exc:
        raise fail(exc) from None
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


def _audit_build(settings: Settings) -> None:
    """A build from the command line is a library change too: recorded in the audit log, by the user who ran it."""
    from assistant.assistant import Assistant
    from assistant.cli.ask import cli_user

    try:
        Assistant.record_change(settings, "rebuild", client=cli_user())
    except AssistantError as exc:
        err.print(f"[yellow]Not recorded in the audit log: {escape(str(exc))}", soft_wrap=True)
