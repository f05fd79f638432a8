"""``audit``: the append-only audit log of library changes and (when enabled) answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from assistant.cli.common import IndexOpt, app, err, escape, fail, out, settings_for
from assistant.errors import AssistantError

COLUMNS = ("Time", "Action", "Outcome", "File / question", "sha256", "Size", "Client", "Build")


@app.command("audit")
def audit_command(
    index: IndexOpt = None,
    log: Annotated[
        Path | None,
        typer.Option("--log", help="The audit log [default: GUIDELINE_ASSISTANT_AUDIT_LOG, else INDEX/audit.jsonl]."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON record per line, as stored.")] = False,
    last: Annotated[int | None, typer.Option("--last", min=1, help="Only the newest N records.")] = None,
) -> None:
    """Print the audit log: who changed the library (file, sha256, size, time, address) and, if enabled, answers.

    A damaged line is reported on stderr with its number and skipped; the log itself is never changed.
    """
    from assistant.index.audit import log_path, read_log

    try:
        path = log or log_path(settings_for(None, index))
        found = read_log(path)
    except AssistantError as exc:
        raise fail(exc) from None
    for problem in found.problems:
        err.print(f"[yellow]{escape(problem)}", soft_wrap=True)
    records = found.records[-last:] if last else found.records
    if as_json:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
        return
    if not records:
        err.print(f"No audit records in {escape(str(path))}.", soft_wrap=True)
        return
    table = Table(*COLUMNS, title=escape(str(path)), title_justify="left")
    for record in records:
        table.add_row(*(escape(cell) for cell in _cells(record)))
    out.print(table)


def _cells(record: dict[str, Any]) -> tuple[str, ...]:
    """One row: a library change shows its file, an answer its question hash, quoted statements and flags."""
    subject = str(record.get("file") or "")
    if record.get("action") == "answer":
        flags = ", ".join(map(str, record.get("flags") or [])) or "no flags"
        subject = (
            f"q {str(record.get('question_sha256', ''))[:12]} · {len(record.get('statements') or [])} quoted · {flags}"
        )
    size = record.get("size")
    return (
        str(record.get("time", "")),
        str(record.get("action", "")),
        str(record.get("outcome", "")),
        subject,
        str(record.get("sha256") or "")[:12],
        f"{size:,}" if isinstance(size, int) else "",
        str(record.get("client") or ""),
        str(record.get("build_id") or ""),
    )
