"""The HTTP API over a real uvicorn server on a loopback port, spoken to with httpx.

The server runs the same session Assistant the other tests use (bundled corpus,
real model, real index), so every answer here is the chain's real answer; the
tests check what a client sees: status codes, one-line messages, headers,
follow-ups, the documentation page, and answers under 16 concurrent clients.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psutil
import pytest
import uvicorn
from fastapi import FastAPI

from assistant.api import CONVERSATION_ID, CONVERSATION_STATUS, INTERNAL_ERROR, MAX_BODY_BYTES, create_app
from assistant.errors import InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOLD_QUESTIONS = [
    json.loads(line)["question"] for line in (PROJECT_ROOT / "evals" / "gold.jsonl").open(encoding="utf-8")
]
SOURCE = "ivig-in-aiha.txt"
DOSE_QUESTION = "What IVIG dose is used in warm AIHA?"
TRACEBACK = re.compile(r"Traceback|File \"|line \d+, in |\.py\b")


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """A real uvicorn server for ``app`` on a free loopback port, stopped afterwards."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="module")
def base_url(assistant) -> Iterator[str]:
    with running(create_app(assistant)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=120) as http:
        yield http


def _input_error(assistant, question: str, **options: Any) -> str:
    """The message the CLI prints for this question (the same InputError, raised in-process)."""
    with pytest.raises(InputError) as caught:
        assistant.ask(question, **options)
    return str(caught.value)


def _no_traceback(response: httpx.Response) -> None:
    assert not TRACEBACK.search(response.text), response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and "\n" not in body["detail"], body


# --------------------------------------------------------------------------- POST /ask


def _check_answered(answer: dict[str, Any], assistant) -> None:
    assert not answer["abstained"] and answer["quotes"] and answer["citations"]
    assert "1 g/kg" in " ".join(quote["text"] for quote in answer["quotes"])
    for quote in answer["quotes"]:
        raw = (Path(assistant.settings.corpus_dir) / quote["source"]).read_text(encoding="utf-8")
        assert raw[quote["start"] : quote["end"]] == quote["text"], "a quote must be verbatim"


def _check_filtered(answer: dict[str, Any], assistant) -> None:
    assert answer["documents"] == [SOURCE]
    assert answer["quotes"] and {quote["source"] for quote in answer["quotes"]} == {SOURCE}


def _check_unknown_document(detail: str, assistant) -> None:
    assert "'nope.txt'" in detail and SOURCE in detail and detail.startswith("No guideline named")


ASK_CASES: list[tuple[str, dict[str, Any], int, Callable[[Any, Any], None]]] = [
    ("answered", {"question": DOSE_QUESTION}, 200, _check_answered),
    # Severity in the data (issue 21): a client tells a tenfold slip from any mismatch without reading English.
    (
        "tenfold slip is a block with its risk",
        {"question": "IVIG 10 000 mg/kg for AIHA?"},
        200,
        lambda d, a: _equals(
            str([(f["severity"], f["risk"]) for f in d["guardrail"]["flags"] if f["risk"] == "tenfold"]),
            "[('block', 'tenfold')]",
        ),
    ),
    ("documents filter", {"question": DOSE_QUESTION, "documents": [SOURCE], "k": 5}, 200, _check_filtered),
    ("unknown document", {"question": DOSE_QUESTION, "documents": ["nope.txt"]}, 400, _check_unknown_document),
    (
        "empty question",
        {"question": "   "},
        400,
        lambda detail, a: _equals(detail, _input_error(a, "   ")),
    ),
    (
        "over-long question",
        {"question": "x" * 2001},
        400,
        lambda detail, a: _equals(detail, _input_error(a, "x" * 2001)),
    ),
    ("no words", {"question": "?!"}, 400, lambda detail, a: _equals(detail, _input_error(a, "?!"))),
    ("missing question", {}, 422, lambda detail, a: _equals(detail, "question: Field required")),
    (
        "question not text",
        {"question": 5},
        422,
        lambda detail, a: _startswith(detail, "question: Input should be a valid string"),
    ),
    (
        "k below 1",
        {"question": DOSE_QUESTION, "k": 0},
        422,
        lambda detail, a: _startswith(detail, "k: Input should be greater"),
    ),
    (
        "unknown field",
        {"question": DOSE_QUESTION, "q": 1},
        422,
        lambda detail, a: _startswith(detail, "q: Extra inputs"),
    ),
    (
        "documents not a list",
        {"question": DOSE_QUESTION, "documents": SOURCE},
        422,
        lambda d, a: _startswith(d, "documents:"),
    ),
]


def _equals(got: str, expected: str) -> None:
    assert got == expected


def _startswith(got: str, prefix: str) -> None:
    assert got.startswith(prefix), got


@pytest.mark.parametrize(
    ("payload", "status", "check"), [case[1:] for case in ASK_CASES], ids=[case[0] for case in ASK_CASES]
)
def test_ask(
    client: httpx.Client, assistant, payload: dict[str, Any], status: int, check: Callable[[Any, Any], None]
) -> None:
    response = client.post("/ask", json=payload)
    assert response.status_code == status, response.text
    if status == 200:
        check(response.json(), assistant)
        assert response.headers[CONVERSATION_ID] and response.headers[CONVERSATION_STATUS] == "new"
    else:
        _no_traceback(response)
        check(response.json()["detail"], assistant)


RAW_CASES: list[tuple[str, dict[str, str], bytes | Callable[[], Iterator[bytes]], int, str]] = [
    ("malformed JSON", {"content-type": "application/json"}, b'{"question": "IVIG dose?",', 422, "JSON decode error"),
    ("not JSON at all", {"content-type": "text/plain"}, b"What dose?", 422, "body:"),
    (
        "body too large",
        {"content-type": "application/json"},
        b" " * (MAX_BODY_BYTES + 1),
        413,
        "larger than 65,536 bytes",
    ),
    (
        "too large, streamed without a length",
        {"content-type": "application/json"},
        lambda: iter([b" " * 40_000] * 3),
        413,
        "larger than",
    ),
]


@pytest.mark.parametrize(
    ("headers", "body", "status", "fragment"), [case[1:] for case in RAW_CASES], ids=[case[0] for case in RAW_CASES]
)
def test_bad_bodies(client: httpx.Client, headers: dict[str, str], body: Any, status: int, fragment: str) -> None:
    response = client.post("/ask", content=body() if callable(body) else body, headers=headers)
    assert response.status_code == status, response.text
    _no_traceback(response)
    assert fragment in response.json()["detail"]


def test_a_follow_up_keeps_the_subject_of_its_conversation(client: httpx.Client) -> None:
    first = client.post("/ask", json={"question": DOSE_QUESTION})
    conversation = first.headers[CONVERSATION_ID]
    follow = client.post("/ask", json={"question": "and in children?", "conversation_id": conversation})
    assert follow.status_code == 200 and follow.headers[CONVERSATION_STATUS] == "continued"
    assert follow.headers[CONVERSATION_ID] == conversation
    asked_as = follow.json()["asked_as"]
    assert asked_as and "IVIG" in asked_as and "children" in asked_as
    alone = client.post("/ask", json={"question": "and in children?"})
    assert alone.json()["asked_as"] is None, "without the id the question stands alone"
    lost = client.post("/ask", json={"question": "and in children?", "conversation_id": "gone"})
    assert lost.status_code == 200 and lost.headers[CONVERSATION_STATUS] == "restarted"
    assert lost.headers[CONVERSATION_ID] != "gone" and lost.json()["asked_as"] is None


def test_an_unexpected_failure_is_a_500_without_a_trace(assistant) -> None:
    """A guard that crashes (a real extension point of the chain) must not leak its stack trace."""
    from assistant.assistant import Assistant

    def broken_guard(question: str, answer: Any) -> Any:
        raise RuntimeError("secret internal detail in /srv/app/module.py line 3")

    broken = Assistant(assistant.searcher, assistant.settings, guard=broken_guard)
    with running(create_app(broken)) as url:
        response = httpx.post(f"{url}/ask", json={"question": DOSE_QUESTION}, timeout=60)
    assert response.status_code == 500
    _no_traceback(response)
    assert response.json()["detail"] == INTERNAL_ERROR


# --------------------------------------------------------------------------- GET endpoints


def test_documents(client: httpx.Client, assistant) -> None:
    body = client.get("/documents").json()
    assert body["sources"] == [SOURCE] == assistant.sources
    (meta,) = body["documents"]
    assert meta["source"] == SOURCE and meta["statements"] > 10 and meta["title"]


def test_health(client: httpx.Client, assistant) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["index"]["exists"] and body["index"]["up_to_date"]
    assert body["statements"] == len(assistant.searcher.chunks) > 0 and body["documents"] == 1
    assert body["model"] == assistant.manifest.model


def test_docs_page_loads_nothing_from_another_host(client: httpx.Client, base_url: str) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    links = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", page.text) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", page.text
    )
    assert links, "the page links its script, style and schema"
    for link in links:
        parsed = urlparse(link)
        assert not parsed.netloc or parsed.netloc == urlparse(base_url).netloc, f"/docs fetches {link}"
        assert client.get(link).status_code == 200, f"{link} is not served"
    assert "/openapi.json" in links
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/documents", "/health"} <= set(schema["paths"])


@pytest.mark.browser
@pytest.mark.slow
def test_docs_render_in_a_browser_from_this_host_only(base_url: str) -> None:
    """Swagger UI really renders the schema (OpenAPI 3.1) and every request the page makes stays on this host."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.is_file():
        pytest.skip("Debian's chromium package is not installed")
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{base_url}/docs")
            page.locator(".opblock-summary-path", has_text="/ask").first.wait_for(timeout=60_000)
        finally:
            browser.close()
    hosts = {urlparse(url).netloc for url in requested if urlparse(url).scheme in ("http", "https")}
    assert hosts == {urlparse(base_url).netloc}, requested
    assert any(url.endswith("/openapi.json") for url in requested)


# --------------------------------------------------------------------------- concurrency


def _outcome(http: httpx.Client, question: str) -> tuple[int, str]:
    """Status and the answer without timings (or the error message), as a client sees them."""
    response = http.post("/ask", json={"question": question})
    if response.status_code != 200:
        return response.status_code, response.json()["detail"]
    body = response.json()
    body.pop("timings_ms")
    return 200, json.dumps(body, sort_keys=True)


QUESTIONS = GOLD_QUESTIONS[::5] + ["   ", "<b>IVIG</b> dose?", "x" * 2001]
CLIENTS = 16


def _concurrently(base_url: str, questions: list[str], clients: int = CLIENTS) -> list[tuple[int, str, float]]:
    """Each client has its own connection; results in question order, with each request's latency."""
    local = threading.local()

    def work(question: str) -> tuple[int, str, float]:
        if not hasattr(local, "http"):
            local.http = httpx.Client(base_url=base_url, timeout=300)
        started = time.perf_counter()
        status, text = _outcome(local.http, question)
        return status, text, (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(work, questions))


def test_concurrent_clients_get_the_sequential_answers(client: httpx.Client, base_url: str) -> None:
    sequential = {question: _outcome(client, question) for question in QUESTIONS}
    questions = [QUESTIONS[(n * 7) % len(QUESTIONS)] for n in range(CLIENTS * 4)]
    results = _concurrently(base_url, questions)
    server_errors = [(q, status) for q, (status, _, _) in zip(questions, results, strict=True) if status >= 500]
    assert not server_errors
    mismatched = [q for q, (status, text, _) in zip(questions, results, strict=True) if (status, text) != sequential[q]]
    assert not mismatched, f"{len(mismatched)} answers differ under concurrency, e.g. {mismatched[:3]}"


# --------------------------------------------------------------------------- the serve command


def test_serve_refuses_a_bad_port_in_one_line() -> None:
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", "70000"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=PROJECT_ROOT)
    assert done.returncode == 2
    assert done.stderr.strip() == "Error: --port must be between 1 and 65535, got 70000."


@contextmanager
def serve_command(corpus: Path, index: Path, log: Path) -> Iterator[tuple[str, int]]:
    """``guideline-assistant serve`` in its own process until it answers /health: (url, pid); stopped after."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)]
    command += ["--corpus", str(corpus), "--index", str(index)]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "serve did not answer within 300 s"
            try:
                httpx.get(f"{url}/health", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_serve_answers_over_http(settings, assistant, tmp_path: Path) -> None:
    """``guideline-assistant serve`` in its own process: loads the index, answers as in-process, stops."""
    with serve_command(settings.corpus_dir, settings.index_dir, tmp_path / "serve.log") as (url, _):
        assert httpx.get(f"{url}/health").json()["documents"] == 1
        answer = httpx.post(f"{url}/ask", json={"question": DOSE_QUESTION}, timeout=120).json()
    assert answer["quotes"] and answer == {
        **assistant.ask(DOSE_QUESTION).model_dump(mode="json"),
        "timings_ms": answer["timings_ms"],
    }


# --------------------------------------------------------------------------- benchmark


@contextmanager
def _bench_server(settings, log: Path) -> Iterator[tuple[str, int, list[str]]]:
    """``serve`` over the bundled corpus and gold questions, or over API_BENCH_CORPUS/_INDEX/_QUESTIONS."""
    corpus = os.environ.get("API_BENCH_CORPUS")
    if not corpus:
        with serve_command(settings.corpus_dir, settings.index_dir, log) as (url, pid):
            yield url, pid, GOLD_QUESTIONS
        return
    index = Path(os.environ.get("API_BENCH_INDEX", PROJECT_ROOT / ".library-index"))
    gold = Path(os.environ.get("API_BENCH_QUESTIONS", Path(corpus).parent / "gold_dev.jsonl"))
    questions = [json.loads(line)["question"] for line in gold.open(encoding="utf-8") if line.strip()]
    with serve_command(Path(corpus), index, log) as (url, pid):
        yield url, pid, questions


def _percentiles(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms"


@pytest.mark.benchmark
@pytest.mark.slow
def test_benchmark_sixteen_clients(settings, assistant, tmp_path: Path) -> None:
    """Latency and memory for 16 concurrent clients (issue 13's target: 16 x 500 questions, growth < 5 %).

    ``API_BENCH_PER_CLIENT`` sets the questions per client (default 20). Printed, never asserted
    except that there are no server errors and every answer equals the sequential one.
    """
    per_client = int(os.environ.get("API_BENCH_PER_CLIENT", "20"))
    with (
        _bench_server(settings, tmp_path / "serve.log") as (base_url, pid, pool),
        httpx.Client(base_url=base_url, timeout=300) as http,
    ):
        sequential: dict[str, tuple[int, str]] = {}
        one_by_one = []
        for question in pool:  # also the warm-up
            started = time.perf_counter()
            sequential[question] = _outcome(http, question)
            one_by_one.append((time.perf_counter() - started) * 1000)
        process = psutil.Process(pid)  # the server's own memory, not the clients'
        _concurrently(base_url, pool)  # warm the server's threads and connections too
        before = process.memory_info().rss
        questions = [pool[n % len(pool)] for n in range(CLIENTS * per_client)]
        started = time.perf_counter()
        results = _concurrently(base_url, questions)
        wall = time.perf_counter() - started
        after = process.memory_info().rss
    errors = sum(status >= 500 for status, _, _ in results)
    mismatched = sum((status, text) != sequential[q] for q, (status, text, _) in zip(questions, results, strict=True))
    print(
        f"\nAPI sequential: {len(pool)} questions, {_percentiles(one_by_one)}\n"
        f"API {CLIENTS} clients x {per_client} questions = {len(questions)} requests in {wall:.1f} s "
        f"({len(questions) / wall:.1f}/s): {_percentiles([ms for _, _, ms in results])}, "
        f"server errors {errors}, differing from sequential {mismatched}, "
        f"server RSS after warm-up {before / 2**20:.0f} -> {after / 2**20:.0f} MiB ({(after - before) / before * 100:+.1f} %)"
    )
    assert errors == 0 and mismatched == 0
