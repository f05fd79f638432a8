"""The embedding cache beside the index: identical vectors, changed text re-embedded, damage ignored (real model, FAISS)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.index import embeddings
from assistant.index.build import build_index
from assistant.index.embedding_cache import CACHE_META, CACHE_VECTORS, EmbeddingCache, text_key

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
SECOND = "# Splenectomy\n\n## Indications\n\nSplenectomy is considered after failure of second-line therapy [3].\n"


def _spy_encoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the real encoder is asked to embed (the real encode still runs)."""
    seen: list[str] = []
    real = embeddings.Embedder.encode_sorted

    def spy(self, texts, *args, **kwargs):
        seen.extend(texts)
        return real(self, texts, *args, **kwargs)

    monkeypatch.setattr(embeddings.Embedder, "encode_sorted", spy)
    return seen


def _vectors(loaded) -> dict[str, np.ndarray]:
    matrix = loaded.faiss_index.reconstruct_n(0, loaded.faiss_index.ntotal)
    return {chunk.id: matrix[i] for i, chunk in enumerate(loaded.chunks)}


def test_full_rebuild_takes_identical_vectors_from_the_cache(make_corpus, embedder, monkeypatch) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    first = build_index(settings, embedder)
    seen = _spy_encoded(monkeypatch)
    again = build_index(settings, embedder, incremental=False)
    assert seen == []
    before, after = _vectors(first), _vectors(again)
    assert before.keys() == after.keys()
    for key, vector in before.items():
        np.testing.assert_array_equal(after[key], vector)


def test_a_changed_statement_is_re_embedded_and_only_it(make_corpus, embedder, monkeypatch) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    build_index(settings, embedder)
    (settings.corpus_dir / "b.md").write_text(SECOND.replace("second-line", "third-line"), encoding="utf-8")
    seen = _spy_encoded(monkeypatch)
    rebuilt = build_index(settings, embedder, incremental=False)
    assert len(seen) == 1 and "third-line" in seen[0]
    changed = next(i for i, chunk in enumerate(rebuilt.chunks) if "third-line" in chunk.text)
    fresh = embedder.encode([rebuilt.chunks[changed].search_text], threads=1)[0]
    np.testing.assert_allclose(rebuilt.faiss_index.reconstruct(changed), fresh, atol=2e-6)


def test_duplicated_statements_are_embedded_once(make_corpus, embedder, monkeypatch) -> None:
    seen = _spy_encoded(monkeypatch)
    texts = ["Give IVIG 1 g/kg.", "Give IVIG 1 g/kg.", "Steroids first line.", "Give IVIG 1 g/kg."]
    vectors, encoded = EmbeddingCache(embedder.name, embedder.dimension).vectors_for(
        texts, lambda missing: embedder.encode_sorted(missing)
    )
    assert encoded == 2 and sorted(seen) == ["Give IVIG 1 g/kg.", "Steroids first line."]
    np.testing.assert_array_equal(vectors[0], vectors[3])


def _flip_a_byte(folder: Path) -> None:
    path = folder / CACHE_VECTORS
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))


def _shorten_keys(folder: Path) -> None:
    path = folder / CACHE_META
    meta = json.loads(path.read_text())
    meta["keys"] = meta["keys"][:-1]
    path.write_text(json.dumps(meta))


@pytest.mark.parametrize(
    "damage",
    [
        _flip_a_byte,
        _shorten_keys,
        lambda folder: (folder / CACHE_META).write_text("{not json"),
        lambda folder: (folder / CACHE_VECTORS).unlink(),
    ],
    ids=["flipped-byte", "rows-mismatch", "bad-json", "vectors-missing"],
)
def test_a_damaged_cache_is_ignored_with_a_note(make_corpus, embedder, monkeypatch, damage) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    first = build_index(settings, embedder)
    damage(settings.index_dir)
    seen = _spy_encoded(monkeypatch)
    rebuilt = build_index(settings, embedder, incremental=False)
    assert len(seen) == len({chunk.search_text for chunk in rebuilt.chunks})  # everything embedded again
    assert any("embedding cache" in note and "damaged" in note for note in rebuilt.manifest.notes)
    for key, vector in _vectors(first).items():
        np.testing.assert_allclose(_vectors(rebuilt)[key], vector, atol=2e-6)
    healed = EmbeddingCache.load(settings.index_dir, embedder.name, embedder.dimension)
    assert healed.note is None and len(healed.rows) == len(seen)


def test_unused_entries_are_pruned_and_another_model_is_not_used(make_corpus, embedder) -> None:
    settings = make_corpus({"a.txt": GOOD, "b.md": SECOND})
    build_index(settings, embedder)
    (settings.corpus_dir / "b.md").unlink()
    rebuilt = build_index(settings, embedder)
    cache = EmbeddingCache.load(settings.index_dir, embedder.name, embedder.dimension)
    assert set(cache.rows) == {text_key(chunk.search_text) for chunk in rebuilt.chunks}
    other = EmbeddingCache.load(settings.index_dir, "another-model", embedder.dimension)
    assert other.rows == {} and other.note is None
