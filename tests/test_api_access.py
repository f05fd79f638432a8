"""The HTTP API's access rules over a real uvicorn server: strict body types (issue 22 case 11),
the bearer token of ``serve --token-file`` on every request, and answers in the audit log."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_api import DOSE_QUESTION, running  # the real-server helper; also puts tests/ on sys.path
from typer.testing import CliRunner

from assistant.api import create_app
from assistant.cli import EXIT_INPUT, app
from assistant.index import audit

TOKEN = "a-ward-token-of-32-characters-xx"

STRICT = [
    ("k as true", {"question": DOSE_QUESTION, "k": True}, "k"),
    ("k as false", {"question": DOSE_QUESTION, "k": False}, "k"),
    ("k as a string", {"question": DOSE_QUESTION, "k": "5"}, "k"),
    ("k as a fraction", {"question": DOSE_QUESTION, "k": 2.5}, "k"),
    ("question as a number", {"question": 5}, "question"),
    ("documents as one string", {"question": DOSE_QUESTION, "documents": "ivig-in-aiha.txt"}, "documents"),
    ("a document as a number", {"question": DOSE_QUESTION, "documents": [1]}, "documents"),
    ("conversation id as a number", {"question": DOSE_QUESTION, "conversation_id": 7}, "conversation_id"),
]


@pytest.fixture(scope="module")
def plain_server(assistant):
    with running(create_app(assistant)) as url:
        yield url


@pytest.mark.parametrize(("body", "field"), [c[1:] for c in STRICT], ids=[c[0] for c in STRICT])
def test_a_value_of_the_wrong_json_type_is_a_422(plain_server: str, body: dict[str, Any], field: str) -> None:
    response = httpx.post(f"{plain_server}/ask", json=body, timeout=60)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail.startswith(field) and "\n" not in detail


def test_a_value_of_the_right_type_is_still_answered(plain_server: str) -> None:
    response = httpx.post(f"{plain_server}/ask", json={"question": DOSE_QUESTION, "k": 5}, timeout=120)
    assert response.status_code == 200 and response.json()["quotes"]


@pytest.fixture(scope="module")
def token_server(assistant):
    with running(create_app(assistant, token=TOKEN)) as url:
        yield url


BEARER = {"Authorization": f"Bearer {TOKEN}"}
TOKEN_CASES = [
    ("ask without a token", "POST", "/ask", {}, 401),
    ("health without a token", "GET", "/health", {}, 401),
    ("documents without a token", "GET", "/documents", {}, 401),
    ("docs without a token", "GET", "/docs", {}, 401),
    ("schema without a token", "GET", "/openapi.json", {}, 401),
    ("a wrong token", "POST", "/ask", {"Authorization": "Bearer a-ward-token-of-32-characters-xy"}, 401),
    ("a prefix of the token", "POST", "/ask", {"Authorization": f"Bearer {TOKEN[:-1]}"}, 401),
    ("the token as basic auth", "POST", "/ask", {"Authorization": f"Basic {TOKEN}"}, 401),
    ("the token without a scheme", "POST", "/ask", {"Authorization": TOKEN}, 401),
    ("the token", "POST", "/ask", BEARER, 200),
    ("health with the token", "GET", "/health", BEARER, 200),
    ("the scheme in lower case", "GET", "/documents", {"Authorization": f"bearer {TOKEN}"}, 200),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"), [c[1:] for c in TOKEN_CASES], ids=[c[0] for c in TOKEN_CASES]
)
def test_every_request_needs_the_token(token_server: str, method: str, path: str, headers: dict, status: int) -> None:
    body = {"question": DOSE_QUESTION} if method == "POST" else None
    response = httpx.request(method, f"{token_server}{path}", json=body, headers=headers, timeout=120)
    assert response.status_code == status, response.text
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json() == {
            "detail": "This server needs a token: send the header 'Authorization: Bearer <token>'."
        }
        assert TOKEN not in response.text


def test_a_large_body_without_the_token_is_refused_before_it_is_read(token_server: str) -> None:
    response = httpx.post(f"{token_server}/ask", content=b" " * 1_000_000, timeout=60)
    assert response.status_code == 401


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


TOKEN_FILES = [
    ("missing file", None, "cannot be read"),
    ("empty file", "", "shorter than 16 characters"),
    ("short token", "abc\n", "shorter than 16 characters"),
]


@pytest.mark.parametrize(("content", "fragment"), [c[1:] for c in TOKEN_FILES], ids=[c[0] for c in TOKEN_FILES])
def test_serve_refuses_an_unusable_token_file_in_one_line(tmp_path: Path, content: str | None, fragment: str) -> None:
    path = tmp_path / "token"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["serve", "--port", str(_free_port()), "--token-file", str(path)])
    assert result.exit_code == EXIT_INPUT, result.output
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_answer_over_http_is_recorded_in_the_audit_log(assistant, tmp_path: Path) -> None:
    from assistant import Assistant

    log = tmp_path / "audit.jsonl"
    audited = Assistant(assistant.searcher, assistant.settings.with_overrides(audit_answers=True, audit_log=log))
    with running(create_app(audited)) as url:
        answer = httpx.post(f"{url}/ask", json={"question": DOSE_QUESTION}, timeout=120).json()
    (record,) = audit.read_log(log).records
    assert record["action"] == "answer" and record["client"] == "127.0.0.1"
    assert record["question_sha256"] == audit.sha256_hex(DOSE_QUESTION) and DOSE_QUESTION not in log.read_text()
    assert record["statements"] == [quote["chunk_id"] for quote in answer["quotes"]]
    assert record["flags"] == [flag["code"] for flag in answer["guardrail"]["flags"]]
    assert record["build_id"] == audit.build_id(assistant.manifest)
    assert json.loads(log.read_text().splitlines()[0]) == record
