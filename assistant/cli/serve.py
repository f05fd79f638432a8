"""``serve``: the HTTP JSON API."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import (
    CorpusOpt,
    IndexOpt,
    app,
    err,
    escape,
    fail,
    load_assistant,
    settings_for,
)
from assistant.errors import AssistantError


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

    settings = settings_for(corpus, index)
    try:
        check_address(host, port)  # in milliseconds, before the model loads
        loaded = load_assistant(settings) if workers == 1 else None
        serve(settings, host, port, workers, loaded, notify=lambda m: err.print(f"[yellow]{escape(m)}", soft_wrap=True))
    except AssistantError as exc:
        raise fail(exc) from None
