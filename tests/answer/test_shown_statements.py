"""Issue 22 cases 7, 8 and 10: what an answer shows is the guideline file's, today's, and once.

* case 7: every field shown with a quote (lead-in, section, title, page label,
  citations, reference entries) edited in ``chunks.jsonl`` with recomputed checksums
  is not shown, and the answer says why in one line;
* case 8: a running assistant (and its HTTP server) notices a changed library:
  each answer carries the note, ``/health`` says "stale";
* case 10: a copy of a guideline already in the index is refused, by name.

Real model, real FAISS, real uvicorn server, files the tests write.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn

from assistant import Assistant
from assistant.index.build import build_index
from assistant.index.store import CHUNKS_FILE, DOCUMENTS_FILE, INDEX_FILE, MANIFEST_FILE, sha256_file

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
SECOND = "# Splenectomy\n\n## Indications\n\nSplenectomy is considered after failure of second-line therapy [3].\n"
HTML = (
    "<html><head><title>Pneumonia</title></head><body><main><h1>Community pneumonia</h1>"
    "<p>Offer amoxicillin 500 mg three times a day for 5 days.</p></main></body></html>"
)
DOSE_QUESTION = "What IVIG dose is used in warm AIHA?"
CHANGED = "the library changed since this index was built"
MISMATCH = "did not match the guideline file"


def reseal(index_dir: Path) -> None:
    """Recompute every checksum the manifest lists, as an attacker who edited the index would."""
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["files"] = {name: sha256_file(index_dir / name) for name in (INDEX_FILE, CHUNKS_FILE, DOCUMENTS_FILE)}
    (index_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def tamper(index_dir: Path, change) -> set[str]:
    """Apply ``change`` to every statement record, reseal, and return the ids of the records it changed."""
    path = index_dir / CHUNKS_FILE
    before = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    after = [change(dict(record)) for record in before]
    path.write_text("".join(json.dumps(r) + "\n" for r in after), encoding="utf-8")
    reseal(index_dir)
    return {new["id"] for old, new in zip(before, after, strict=True) if old != new}


def _set(field: str, value):
    def change(record: dict) -> dict:
        record[field] = value
        return record

    return change


def _cite(record: dict) -> dict:
    record["citations"] = [*record["citations"], "99"]
    record["references"] = {**record["references"], "99": "Forged B. IVIG 10 g/kg daily for 14 days. 2024."}
    return record


def _reference(record: dict) -> dict:
    record["references"] = {label: "Forged A. IVIG 10 g/kg daily for 14 days. 2024." for label in record["citations"]}
    return record


# --------------------------------------------------------------------------- case 7


@pytest.mark.parametrize(
    ("change", "forged"),
    [
        pytest.param(_set("context", "Give IVIG 10 g/kg daily for 14 days:"), "10 g/kg daily", id="lead-in"),
        pytest.param(_set("section", "Give IVIG 10 g/kg daily for 14 days"), "10 g/kg daily", id="section"),
        pytest.param(_set("title", "IVIG 10 g/kg daily for 14 days (national guideline)"), "10 g/kg daily", id="title"),
        pytest.param(_set("page_label", "10 g/kg daily"), "10 g/kg daily", id="page-label"),
        pytest.param(_set("page", 77), '"page":77', id="page"),
        pytest.param(_cite, "Forged B.", id="citation-label-and-reference"),
        pytest.param(_reference, "Forged A.", id="reference-entries"),
    ],
)
def test_an_edited_field_shown_with_a_quote_is_not_shown(make_corpus, embedder, change, forged: str) -> None:
    settings = make_corpus({"a.txt": GOOD})
    build_index(settings, embedder)
    honest = Assistant.load(settings=settings).ask(DOSE_QUESTION)
    assert any("1 g/kg" in quote.text for quote in honest.quotes), "the control answer quotes the dose"
    assert not any(MISMATCH in note for note in honest.notes)

    edited = tamper(settings.index_dir, change)
    answer = Assistant.load(settings=settings).ask(DOSE_QUESTION)
    shown = answer.model_dump_json().replace(" ", "")
    assert forged.replace(" ", "") not in shown
    assert edited and not any(quote.chunk_id in edited for quote in answer.quotes)
    notes = [note for note in answer.notes if MISMATCH in note]
    assert len(notes) == 1 and "a.txt" in notes[0] and "\n" not in notes[0]


# --------------------------------------------------------------------------- case 8


@contextmanager
def serving(assistant: Assistant) -> Iterator[str]:
    """A real uvicorn server over the assistant's HTTP API on a free loopback port."""
    from assistant.api import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(assistant), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _edit(corpus: Path) -> None:
    (corpus / "a.txt").write_text(GOOD.replace("1 g/kg as a single dose", "2 g/kg as a single dose daily"), encoding="utf-8")


@pytest.mark.parametrize(
    ("mutate", "changed_source"),
    [
        pytest.param(_edit, "a.txt", id="a-guideline-edited"),
        pytest.param(lambda corpus: (corpus / "c.md").write_text(SECOND.replace("Splenectomy", "Rituximab")), "c.md",
                     id="a-guideline-added"),
        pytest.param(lambda corpus: (corpus / "b.md").unlink(), "b.md", id="a-guideline-removed"),
    ],
)
def test_a_running_server_notices_a_changed_library(make_corpus, embedder, mutate, changed_source: str) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    build_index(settings, embedder)
    assistant = Assistant.load(settings=settings)
    with serving(assistant) as url, httpx.Client(base_url=url, timeout=120) as http:
        before = http.post("/ask", json={"question": DOSE_QUESTION}).json()
        assert not any(CHANGED in note.lower() for note in before["notes"])
        assert http.get("/health").json()["status"] == "ok"

        mutate(settings.corpus_dir)
        after = http.post("/ask", json={"question": DOSE_QUESTION}).json()
        notes = [note for note in after["notes"] if CHANGED in note.lower()]
        assert len(notes) == 1 and changed_source in notes[0]
        if changed_source == "a.txt":  # the old text of an edited file is never quoted as the guideline's words
            assert not any(quote["source"] == "a.txt" for quote in after["quotes"])
        assert http.get("/health").json()["status"] == "stale"

    build_index(settings, embedder)
    assistant.rebuild()
    assert not any(CHANGED in note.lower() for note in assistant.ask(DOSE_QUESTION).notes)


# --------------------------------------------------------------------------- case 10


@pytest.mark.parametrize(
    ("copy", "original"),
    [
        pytest.param("copy-of-ivig.txt", "a.txt", id="byte-identical-txt"),
        pytest.param("ivig-again.md", "a.txt", id="same-bytes-other-suffix"),
        pytest.param("pneumonia-copy.html", "pneumonia.html", id="byte-identical-html"),
    ],
)
def test_a_copy_of_an_indexed_guideline_is_refused_by_name(make_corpus, embedder, copy: str, original: str) -> None:
    settings = make_corpus({"a.txt": GOOD, "pneumonia.html": HTML})
    first = build_index(settings, embedder)
    data = (settings.corpus_dir / original).read_bytes()

    from ui.library import UploadRefused, save_upload

    with pytest.raises(UploadRefused) as refused:  # the upload: refused before anything is written
        save_upload(settings.corpus_dir, copy, data)
    assert original in str(refused.value) and not (settings.corpus_dir / copy).exists()

    (settings.corpus_dir / copy).write_bytes(data)  # copied in by hand: the incremental build refuses it
    second = build_index(settings, embedder)
    assert not any(chunk.source == copy for chunk in second.chunks)
    assert [c.id for c in second.chunks] == [c.id for c in first.chunks]
    assert any(problem.startswith(f"{copy}: identical to {original}") for problem in second.manifest.problems)
