"""The FAISS index kind: exact below Settings.ann_threshold, HNSW from it on, recorded in the manifest."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from assistant.index.build import build_index
from assistant.index.store import load_index
from assistant.index.vectors import FLAT, HNSW, HNSW_EF_SEARCH, build_vector_index, index_kind
from assistant.retrieval.searcher import HybridSearcher

QUESTIONS = [
    "What dose of IVIG should I use in warm AIHA?",
    "What is the first-line treatment for warm autoimmune hemolytic anemia?",
    "Which second-line options exist for steroid-refractory AIHA?",
    "How is rituximab dosed in refractory cases?",
    "Can IVIG replace steroids?",
]


@pytest.mark.parametrize(
    ("count", "threshold", "kind"), [(9, 10, FLAT), (10, 10, HNSW), (50_000, 50_000, HNSW), (0, 1, FLAT)]
)
def test_kind_follows_the_threshold(count: int, threshold: int, kind: str) -> None:
    assert index_kind(count, threshold) == kind


def test_hnsw_finds_what_flat_finds_on_random_unit_vectors() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(2_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat, flat_kind = build_vector_index(vectors, 32, threshold=10_000)
    hnsw, hnsw_kind = build_vector_index(vectors, 32, threshold=1_000)
    assert (flat_kind, hnsw_kind) == (FLAT, HNSW)
    assert isinstance(flat, faiss.IndexFlatIP) and isinstance(hnsw, faiss.IndexHNSWFlat)
    _, truth = flat.search(vectors[:50], 1)
    _, found = hnsw.search(vectors[:50], 1)
    assert (truth == found).all()  # each vector's nearest is itself
    assert np.allclose(hnsw.reconstruct(7), vectors[7])  # the searcher and incremental builds read vectors back


def test_small_threshold_builds_hnsw_and_answers_the_same_top_hit_as_flat(
    settings, embedder, assistant, tmp_path
) -> None:
    hnsw_settings = settings.with_overrides(index_dir=tmp_path / "hnsw-index", ann_threshold=1)
    build_index(hnsw_settings, embedder)
    loaded = load_index(hnsw_settings)
    assert loaded.manifest.vector_index == HNSW
    assert isinstance(loaded.faiss_index, faiss.IndexHNSWFlat)
    assert loaded.faiss_index.hnsw.efSearch == HNSW_EF_SEARCH  # the search breadth survives write/read
    assert assistant.manifest.vector_index == FLAT  # the default threshold keeps the bundled corpus exact
    hnsw_searcher = HybridSearcher(loaded, embedder, hnsw_settings)
    for question in QUESTIONS:
        flat_top = assistant.searcher.search(question)[0]
        hnsw_top = hnsw_searcher.search(question)[0]
        assert hnsw_top.chunk.id == flat_top.chunk.id, question
        assert hnsw_top.dense == pytest.approx(flat_top.dense, abs=1e-5)


def test_the_bundled_model_runs_without_sentence_transformers_and_gives_its_vectors(embedder, assistant) -> None:
    """The direct transformer + mean pooling + normalize path must give sentence-transformers' own vectors."""
    from sentence_transformers import SentenceTransformer

    from assistant.index.embeddings import MeanPooledTransformer, mean_pooled_layout

    assert isinstance(embedder._model, MeanPooledTransformer)
    assert mean_pooled_layout(embedder.path) == 256
    texts = [chunk.search_text for chunk in assistant.searcher.chunks] + [
        "  leading and trailing spaces  ",
        "IVIG 1 g/kg × 2 days; Ä ï¬ 😀",
        "word " * 400,  # longer than 256 tokens: truncated the same way
        "x",
    ]
    reference = SentenceTransformer(str(embedder.path), device="cpu", local_files_only=True).encode(
        texts, batch_size=16, normalize_embeddings=True, convert_to_numpy=True
    )
    ours = embedder.encode(texts, batch_size=16)
    assert ours.shape == reference.shape
    assert np.abs(ours - reference).max() < 1e-5
    assert np.abs(embedder.encode_query(texts[0])[0] - reference[0]).max() < 1e-5
