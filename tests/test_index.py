"""The on-disk index: build, manifest, load, stale vs corrupt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.errors import IndexCorrupt, StaleIndex
from assistant.index.build import MARKER_FILE, build_index, ensure_index
from assistant.index.embedding_cache import CACHE_META, CACHE_VECTORS
from assistant.index.store import (
    ARTIFACTS,
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    INDEX_FILE,
    MANIFEST_FILE,
    IndexMissing,
    index_status,
    load_index,
)
from assistant.ingest.chunking import CHUNKER_VERSION


@pytest.fixture
def built(tmp_path: Path, settings, embedder):
    """A private index over the bundled corpus that tests may damage."""
    local = settings.with_overrides(index_dir=tmp_path / "index")
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "README.md").write_text("placeholder\n")
    build_index(local, embedder)
    return local


def test_build_writes_faiss_jsonl_and_manifest(built) -> None:
    files = sorted(p.name for p in built.index_dir.iterdir())
    assert files == sorted([*ARTIFACTS, MARKER_FILE, "README.md", CACHE_META, CACHE_VECTORS])
    manifest = json.loads((built.index_dir / MANIFEST_FILE).read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["model_dimension"] == 384
    assert manifest["chunker_version"] == CHUNKER_VERSION
    assert set(manifest["corpus"]) == {"ivig-in-aiha.txt"}
    assert set(manifest["files"]) == {INDEX_FILE, CHUNKS_FILE, DOCUMENTS_FILE}  # no texts/: offsets index the file
    assert manifest["n_chunks"] == 31


def test_no_pickle_files_and_chunks_are_json(built) -> None:
    assert not list(built.index_dir.glob("*.pkl"))
    lines = (built.index_dir / CHUNKS_FILE).read_text().splitlines()
    assert all(json.loads(line)["text"] for line in lines)


def test_load_round_trip(built) -> None:
    loaded = load_index(built)
    assert loaded.faiss_index.ntotal == len(loaded.chunks) == 31
    raw = (built.corpus_dir / "ivig-in-aiha.txt").read_text()
    assert all(raw[c.start : c.end] == c.text for c in loaded.chunks)


def test_placeholder_survives_rebuild(built, embedder) -> None:
    build_index(built, embedder)
    assert (built.index_dir / "README.md").read_text() == "placeholder\n"


def test_missing_index(tmp_path: Path, settings) -> None:
    with pytest.raises(IndexMissing):
        load_index(settings.with_overrides(index_dir=tmp_path / "none"))


def test_changed_corpus_is_stale_and_rebuilt(tmp_path: Path, built, embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(built.corpus_dir, corpus)
    local = built.with_overrides(corpus_dir=corpus)
    (corpus / "extra.md").write_text("# Extra\n\nA new statement about splenectomy [9].\n")
    with pytest.raises(StaleIndex, match="corpus changed"):
        load_index(local)
    assert index_status(local).up_to_date is False
    messages: list[str] = []
    loaded = ensure_index(local, embedder, notify=messages.append)
    assert loaded.manifest.n_documents == 2
    assert messages and "out of date" in messages[0]
    assert index_status(local).up_to_date is True


def test_other_model_is_stale(built) -> None:
    path = built.index_dir / MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["model"] = "some-other-model"
    path.write_text(json.dumps(manifest))
    with pytest.raises(StaleIndex, match="some-other-model"):
        load_index(built)


@pytest.mark.parametrize(
    ("damage", "file_named"),
    [
        (lambda d: (d / INDEX_FILE).write_bytes((d / INDEX_FILE).read_bytes()[:100]), INDEX_FILE),
        (lambda d: (d / CHUNKS_FILE).write_text((d / CHUNKS_FILE).read_text() + "not json\n"), CHUNKS_FILE),
        (lambda d: (d / MANIFEST_FILE).write_text("{broken"), MANIFEST_FILE),
        (lambda d: (d / CHUNKS_FILE).unlink(), CHUNKS_FILE),
    ],
    ids=["truncated-faiss", "garbage-chunk-line", "broken-manifest", "missing-chunks"],
)
def test_corrupt_index_is_refused_naming_the_file(built, embedder, damage, file_named: str) -> None:
    damage(built.index_dir)
    with pytest.raises(IndexCorrupt, match=file_named):
        ensure_index(built, embedder)
    build_index(built, embedder)  # `index build` repairs it
    assert load_index(built).faiss_index.ntotal == 31
