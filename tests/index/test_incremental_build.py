"""Incremental builds, canonical texts and the index folder's ownership, with the real model and FAISS."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import IndexCorrupt, IndexFolderError
from assistant.index.build import MARKER_FILE, build_index
from assistant.index.store import DOCUMENTS_FILE, load_index, text_path
from assistant.ingest import files

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
SECOND = "# Splenectomy\n\n## Indications\n\nSplenectomy is considered after failure of second-line therapy [3].\n"
HTML = (
    "<html><head><title>Pneumonia</title><script>var x = 1;</script></head><body><nav>Home | About</nav>"
    "<main><h1>Community pneumonia</h1><p>Offer amoxicillin 500 mg three times a day for 5 days.</p>"
    "<table><tr><th>Drug</th><th>Dose</th></tr><tr><td>clarithromycin</td><td>500 mg twice daily</td></tr></table>"
    "</main></body></html>"
)


def _parsed_sources(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record which files the build actually reads and parses."""
    seen: list[str] = []
    real = files.parse_file

    def spy(path: Path, source: str) -> files.ParsedFile:
        seen.append(source)
        return real(path, source)

    monkeypatch.setattr(files, "parse_file", spy)
    return seen


def test_one_changed_file_is_the_only_one_parsed_and_embedded(make_corpus, embedder, monkeypatch) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    first = build_index(settings, embedder)
    before = {chunk.id: first.faiss_index.reconstruct(i) for i, chunk in enumerate(first.chunks)}

    (settings.corpus_dir / "b.md").write_text(SECOND.replace("[3]", "in adults [3]"), encoding="utf-8")
    seen = _parsed_sources(monkeypatch)
    second = build_index(settings, embedder)

    assert seen == ["b.md"]
    assert second.manifest.reused_documents == 1
    assert any("in adults" in chunk.text for chunk in second.chunks)
    for i, chunk in enumerate(second.chunks):
        if chunk.source == "a.txt":
            np.testing.assert_allclose(second.faiss_index.reconstruct(i), before[chunk.id], atol=1e-6)
    reloaded = load_index(settings)
    assert [c.id for c in reloaded.chunks] == [c.id for c in second.chunks]


def test_incremental_equals_full_build(make_corpus, embedder) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    build_index(settings, embedder)
    (settings.corpus_dir / "c.md").write_text(SECOND.replace("Splenectomy", "Rituximab"), encoding="utf-8")
    incremental = build_index(settings, embedder)
    full = build_index(settings, embedder, incremental=False)
    assert [c.model_dump() for c in incremental.chunks] == [c.model_dump() for c in full.chunks]
    assert incremental.faiss_index.ntotal == full.faiss_index.ntotal
    vectors = incremental.faiss_index.reconstruct_n(0, incremental.faiss_index.ntotal)
    np.testing.assert_allclose(vectors, full.faiss_index.reconstruct_n(0, full.faiss_index.ntotal), atol=1e-5)


def test_a_removed_file_disappears(make_corpus, embedder) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    build_index(settings, embedder)
    (settings.corpus_dir / "b.md").unlink()
    rebuilt = build_index(settings, embedder)
    assert {chunk.source for chunk in rebuilt.chunks} == {"a.txt"}
    assert [meta.source for meta in rebuilt.documents] == ["a.txt"]


def test_html_quotes_index_the_stored_canonical_text(make_corpus, embedder) -> None:
    settings = make_corpus({"a.txt": GOOD, "pneumonia.html": HTML})
    loaded = build_index(settings, embedder)
    html_chunks = [chunk for chunk in loaded.chunks if chunk.source == "pneumonia.html"]
    assert html_chunks and all(chunk.offsets == "canonical" for chunk in html_chunks)
    canonical = text_path(settings.index_dir, "pneumonia.html").read_text(encoding="utf-8")
    assert all(canonical[c.start : c.end] == c.text for c in html_chunks)
    assert not any("var x" in c.text or "Home" in c.text for c in html_chunks)
    assert all(c.offsets == "raw" for c in loaded.chunks if c.source == "a.txt")
    assert not text_path(settings.index_dir, "a.txt").exists()
    documents = json.loads((settings.index_dir / DOCUMENTS_FILE).read_text())
    assert {d["source"]: d["offsets"] for d in documents} == {"a.txt": "raw", "pneumonia.html": "canonical"}


def test_a_tampered_canonical_text_is_refused(make_corpus, embedder) -> None:
    settings = make_corpus({"a.txt": GOOD, "pneumonia.html": HTML})
    build_index(settings, embedder)
    path = text_path(settings.index_dir, "pneumonia.html")
    path.write_text(path.read_text(encoding="utf-8").replace("500 mg", "5000 mg"), encoding="utf-8")
    with pytest.raises(IndexCorrupt, match="checksum"):
        load_index(settings)


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({"src/main.py": "print(1)\n", "notes.txt": "mine"}, "already holds other files"),
        ({"only-a-file": None}, "is a file"),
    ],
)
def test_a_folder_that_is_not_an_index_is_never_replaced(make_corpus, embedder, tmp_path: Path, layout, message) -> None:
    settings = make_corpus({"a.txt": GOOD})
    target = tmp_path / "precious"
    if "only-a-file" in layout:
        target.write_text("do not touch\n")
    else:
        for name, content in layout.items():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_text(content)
    before = sorted(p.as_posix() for p in tmp_path.rglob("*") if "precious" in p.as_posix())
    with pytest.raises(IndexFolderError, match=message):
        build_index(settings.with_overrides(index_dir=target), embedder)
    assert sorted(p.as_posix() for p in tmp_path.rglob("*") if "precious" in p.as_posix()) == before


def test_an_index_folder_is_marked_as_ours(make_corpus, embedder) -> None:
    settings = make_corpus({"a.txt": GOOD})
    build_index(settings, embedder)
    assert (settings.index_dir / MARKER_FILE).is_file()
    build_index(settings, embedder)  # a second build replaces its own folder


def test_an_edited_dose_with_recomputed_checksums_is_refused(make_corpus, embedder) -> None:
    """The red-team attack: 1 g/kg -> 10 g/kg in chunks.jsonl, manifest checksums recomputed to match."""
    from assistant.index.store import CHUNKS_FILE, MANIFEST_FILE, sha256_file

    settings = make_corpus({"a.txt": GOOD})
    build_index(settings, embedder)
    chunks_path = settings.index_dir / CHUNKS_FILE
    chunks_path.write_text(chunks_path.read_text(encoding="utf-8").replace("1 g/kg", "10 g/kg"), encoding="utf-8")
    manifest_path = settings.index_dir / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["files"][CHUNKS_FILE] = sha256_file(chunks_path)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="does not match the guideline text"):
        load_index(settings)
