"""``serve``: the HTTP JSON API."""

from __future__ import annotations

from pathlib import Path
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
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="A file whose first line is a token every request must send as 'Authorization: Bearer <token>'.",
        ),
    ] = None,
) -> None:
    """Serve the HTTP JSON API: POST /ask, GET /documents, GET /health, docs at /docs.

    It listens on 127.0.0.1 (this computer only) unless --host says otherwise; to share it on a
    ward network use --host 0.0.0.0 (or the address of one interface) together with --token-file.
    """
    from assistant.access import api_token, is_loopback
    from assistant.api import check_address, serve

    try:
        settings = settings_for(corpus, index, api_token_file=token_file)
        check_address(host, port)  # in milliseconds, before the model loads
        if api_token(settings) is None and not is_loopback(host):
            err.print(
                f"[yellow]Serving on {escape(host)} without --token-file: anyone who can reach this port can ask.",
                soft_wrap=True,
            )
        loaded = load_assistant(settings) if workers == 1 else None
        serve(settings, host, port, workers, loaded, notify=lambda m: err.print(f"[yellow]{escape(m)}", soft_wrap=True))
    except AssistantError as exc:
        raise fail(exc) from None
