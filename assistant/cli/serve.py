"""``serve``: the HTTP JSON API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from assistant.cli.common import (
    CorpusOpt,
    IndexOpt,
    _fail,
    _load_assistant,
    _settings,
    app,
    err,
    escape,
)
from assistant.errors import AssistantError

if TYPE_CHECKING:
    pass


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
