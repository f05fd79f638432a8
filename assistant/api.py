"""The HTTP JSON API: ``guideline-assistant serve`` (FastAPI + uvicorn).

This is how the assistant serves a ward or other hospital software: ``POST /ask``
returns exactly the answer schema the CLI prints with ``--json``, so every client
renders the same checked quotes. The index and the model are loaded once per
process and shared read-only by every request; ``ask`` runs in FastAPI's thread
pool (sync endpoints) because the chain is CPU-bound torch/FAISS/BM25 work that
would otherwise block the event loop. The embedder serialises its own encode
calls, everything else a question touches is read-only or guarded by a lock.

Errors never carry a stack trace: an unusable question is a 400 with the CLI's
one-line message, invalid JSON a 422 with a one-line summary, an unusable index
or model a 503, anything unexpected a 500 that says only to look at the server log.
Nothing is loaded from another host: the OpenAPI page's Swagger UI assets are
served from the ``fastapi-offline`` package, or a plain local page when it is absent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant import __version__
from assistant.access import BearerToken, api_token
from assistant.answer import Answer
from assistant.errors import AssistantError, InputError
from assistant.ingest.metadata import DocumentMeta
from assistant.settings import ENV_PREFIX, Settings

if TYPE_CHECKING:
    from assistant.assistant import Assistant
    from assistant.retrieval.followup import Conversation

log = logging.getLogger("assistant.api")

MAX_BODY_BYTES = 64 * 1024  # a question is at most a few thousand characters; anything larger is not one
MAX_CONVERSATIONS = 1_000  # per process; the oldest untouched conversation is forgotten first
HEALTH_TTL_S = 30.0  # index status hashes the corpus: a load balancer polling every second must not pay that
CONVERSATION_ID = "X-Conversation-Id"
CONVERSATION_STATUS = "X-Conversation-Status"
INTERNAL_ERROR = "Internal error while answering; the server log has the details."
DOCS_ASSETS = "/docs-assets"


# --------------------------------------------------------------------------- request and response shapes


class AskRequest(BaseModel):
    """One question, as the CLI's ``ask`` takes it, plus the conversation it continues.

    Strict: ``"k": true`` or ``"k": "5"`` is a 422, never silently 1 or 5 (JSON has numbers for numbers).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    question: str = Field(description="The question in plain language (at most max_question_chars characters).")
    k: int | None = Field(default=None, ge=1, le=50, description="Passages retrieved before selection.")
    documents: list[str] | None = Field(
        default=None, max_length=500, description="Answer only from these guidelines (names as in quotes[].source)."
    )
    min_strength: Literal["strong", "conditional", "weak"] | None = Field(
        default=None,
        description="Quote only recommendations the guideline grades at least this strong (quotes[].grade.strength); "
        "null: the server's setting (default: every statement).",
    )
    conversation_id: str | None = Field(
        default=None,
        max_length=64,
        description=f"The {CONVERSATION_ID} of an earlier answer, so a follow-up keeps its subject.",
    )


class IndexHealth(BaseModel):
    directory: str
    exists: bool
    up_to_date: bool = Field(description="False when the corpus or model changed since the served index was built.")
    reason: str


class Health(BaseModel):
    status: Literal["ok", "stale"] = Field(
        default="ok", description="'stale' when the library changed since the served index was built (until rebuilt)."
    )
    version: str
    index: IndexHealth
    statements: int = Field(description="Statements in the index this process answers from.")
    documents: int
    model: str
    conversations: int = Field(description="Conversations this process currently remembers.")


class Documents(BaseModel):
    sources: list[str] = Field(description="The names POST /ask accepts in 'documents'.")
    documents: list[DocumentMeta]


class Problem(BaseModel):
    detail: str


# --------------------------------------------------------------------------- conversations


@dataclass
class _Slot:
    conversation: Conversation
    lock: threading.Lock = field(default_factory=threading.Lock)


class ConversationStore:
    """Conversations kept on the server, least recently used forgotten first, safe across threads.

    A conversation records each turn, so two requests of one conversation at once
    would interleave; each slot has its own lock that ``ask`` holds for the turn.
    """

    def __init__(self, new: Callable[[], Conversation], capacity: int = MAX_CONVERSATIONS) -> None:
        self._new = new
        self._capacity = capacity
        self._slots: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, conversation_id: str | None) -> tuple[str, _Slot, str]:
        """(id, slot, status): status is ``continued``, ``new`` (no id given) or ``restarted`` (id unknown)."""
        with self._lock:
            if conversation_id is not None and conversation_id in self._slots:
                self._slots.move_to_end(conversation_id)
                return conversation_id, self._slots[conversation_id], "continued"
            slot = _Slot(self._new())
            self._slots[slot.conversation.id] = slot
            while len(self._slots) > self._capacity:
                self._slots.popitem(last=False)
            return slot.conversation.id, slot, "new" if conversation_id is None else "restarted"

    def __len__(self) -> int:
        return len(self._slots)


# --------------------------------------------------------------------------- body size limit


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, declared or streamed (chunked).

    The body is read here (at most ``limit`` bytes) and handed on, so nothing larger
    ever reaches JSON parsing or the chain.
    """

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.limit:
                await self._refuse(scope, send)
                return
            more = message.get("more_body", False)
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        body = Problem(detail=f"The request body is larger than {self.limit:,} bytes; send one question at a time.")
        response = JSONResponse(body.model_dump(), status_code=413, headers={"Connection": "close"})
        await response(scope, _nothing, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the already-read body once, then the client's later messages."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _nothing() -> Message:
    return {"type": "http.disconnect"}


# --------------------------------------------------------------------------- errors


def _one_line(exc: RequestValidationError) -> str:
    """The validation errors as one line, ``where: what``, never echoing the input back."""
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    more = f" (and {len(exc.errors()) - 3} more)" if len(exc.errors()) > 3 else ""
    return "; ".join(parts) + more


def _install_error_handlers(app: FastAPI) -> None:
    """Every error is ``{"detail": "one line"}``: the message the CLI prints, never a stack trace."""

    async def invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": _one_line(exc)}, status_code=422)

    async def assistant_error(request: Request, exc: Exception) -> JSONResponse:
        status = 400 if isinstance(exc, InputError) else 503
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=status)

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse({"detail": INTERNAL_ERROR}, status_code=500)

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(AssistantError, assistant_error)
    app.add_exception_handler(Exception, unexpected)


# --------------------------------------------------------------------------- documentation pages


def _swagger_assets() -> Path | None:
    """Swagger UI's JavaScript and CSS shipped inside the ``fastapi-offline`` package, if installed."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    static = Path(fastapi_offline.__file__).parent / "static"
    return static if (static / "swagger-ui-bundle.js").is_file() else None


def _install_docs(app: FastAPI) -> None:
    """``/docs`` from local files only: the browser must not fetch anything from another host."""
    assets = _swagger_assets()
    if assets is not None:
        app.mount(DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        if assets is None:
            return HTMLResponse(_plain_docs(app))
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from the online validator
        )


def _plain_docs(app: FastAPI) -> str:
    """Without local Swagger UI assets: the endpoints and a link to the OpenAPI document."""
    rows = "".join(
        f"<li><code>{escape(method)} {escape(path)}</code> {escape(operation.get('summary', ''))}</li>"
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
    )
    return (
        f"<!DOCTYPE html><html><head><title>{escape(app.title)}</title></head><body>"
        f"<h1>{escape(app.title)}</h1><ul>{rows}</ul>"
        '<p>The full schema: <a href="/openapi.json">/openapi.json</a>.</p></body></html>'
    )


# --------------------------------------------------------------------------- the app


def create_app(
    assistant: Assistant | None = None, settings: Settings | None = None, token: str | None = None
) -> FastAPI:
    """The API over one loaded assistant (loaded here, once, when not given).

    Also the uvicorn factory for several workers (``assistant.api:create_app``): each
    worker process then loads the index named by the GUIDELINE_ASSISTANT_* variables.
    ``token`` (else ``Settings.api_token_file``'s) is the bearer token every request must carry.
    """
    if assistant is None:
        from assistant import Assistant

        assistant = Assistant.load(settings=settings)
    served = assistant
    app = FastAPI(
        title="guideline-assistant",
        version=__version__,
        description="Quoted, cited answers from clinical guideline text, offline, with a dose guardrail.",
        docs_url=None,
        redoc_url=None,
    )
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    required = token if token is not None else api_token(served.settings)
    if required is not None:
        app.add_middleware(BearerToken, token=required)  # added last, so it runs first: before any body is read
    _install_error_handlers(app)
    _install_docs(app)
    conversations = ConversationStore(served.new_conversation)
    documents = Documents(sources=served.sources, documents=served.documents(served.settings))
    health = _HealthCache(served, conversations)
    errors: dict[int | str, dict[str, Any]] = {code: {"model": Problem} for code in (400, 401, 413, 422, 500, 503)}

    @app.post("/ask", response_model=Answer, responses=errors, summary="Answer one question")
    def ask(body: AskRequest, request: Request, response: Response) -> Answer:
        """The answer schema of ``ask --json``; the ``X-Conversation-Id`` header continues the conversation.

        ``X-Conversation-Status`` says ``new``, ``continued`` or ``restarted`` (the id given was
        unknown or forgotten, so the question was answered without its earlier turns).
        """
        conversation_id, slot, status = conversations.open(body.conversation_id)
        with slot.lock:
            client = request.client.host if request.client else None
            answer = served.ask(
                body.question, body.k, documents=body.documents, conversation=slot.conversation,
                client=client, min_strength=body.min_strength,
            )
        response.headers[CONVERSATION_ID] = conversation_id
        response.headers[CONVERSATION_STATUS] = status
        return answer

    @app.get("/documents", response_model=Documents, summary="The indexed guidelines")
    def list_documents() -> Documents:
        return documents

    @app.get("/health", response_model=Health, summary="Liveness and the served index")
    def get_health() -> Health:
        return health.get()

    return app


class _HealthCache:
    """``/health`` recomputed at most every ``HEALTH_TTL_S`` seconds (the staleness check reads the corpus)."""

    def __init__(self, assistant: Assistant, conversations: ConversationStore) -> None:
        self._assistant = assistant
        self._conversations = conversations
        self._lock = threading.Lock()
        self._index: IndexHealth | None = None
        self._at = 0.0

    def get(self) -> Health:
        with self._lock:
            if self._index is None or time.monotonic() - self._at > HEALTH_TTL_S:
                status = self._assistant.status()
                self._index = IndexHealth(
                    directory=str(status.directory),
                    exists=status.exists,
                    up_to_date=status.up_to_date,
                    reason=status.reason,
                )
                self._at = time.monotonic()
            index = self._index
        manifest = self._assistant.manifest
        stale = not index.up_to_date or bool(self._assistant.library_changes())  # a stat per file, every call
        return Health(
            status="stale" if stale else "ok",
            version=__version__,
            index=index,
            statements=manifest.n_chunks,
            documents=len(self._assistant.sources),
            model=manifest.model,
            conversations=len(self._conversations),
        )


# --------------------------------------------------------------------------- serving


def check_address(host: str, port: int) -> None:
    """Fail in milliseconds, with one line, on a port that cannot be used (before the model loads)."""
    if not 1 <= port <= 65535:
        raise InputError(f"--port must be between 1 and 65535, got {port}.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InputError(f"--host {host!r} cannot be used: {exc.strerror or exc}.") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InputError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    assistant: Assistant | None = None,
    notify: Callable[[str], None] | None = None,
) -> None:
    """Run the API until interrupted; ``workers`` > 1 starts that many processes, each loading the index.

    With several workers the index is built (if needed) here first, once, so the workers
    only ever load the same finished build and never race to write it.
    """
    import uvicorn

    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}.")
    check_address(host, port)
    if workers == 1:
        uvicorn.run(create_app(assistant, settings), host=host, port=port, log_level="info")
        return
    from assistant import Assistant

    status = Assistant.index_status(settings)
    if not status.up_to_date:
        if notify is not None:
            notify(f"{status.reason} Building the index once before starting {workers} workers.")
        Assistant.build(settings)
    os.environ[ENV_PREFIX + "CORPUS_DIR"] = str(settings.corpus_dir.resolve())
    os.environ[ENV_PREFIX + "INDEX_DIR"] = str(settings.index_dir.resolve())
    if settings.api_token_file is not None:  # each worker reads the same token file
        os.environ[ENV_PREFIX + "API_TOKEN_FILE"] = str(settings.api_token_file.resolve())
    uvicorn.run("assistant.api:create_app", factory=True, host=host, port=port, workers=workers, log_level="info")
