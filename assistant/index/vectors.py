"""Which FAISS index holds the vectors: exact below a size, an HNSW graph above it.

An exact ``IndexFlatIP`` compares a question with every statement; that is cheap and
exact for a guideline or a small library, and its cost grows linearly with the library.
From ``Settings.ann_threshold`` statements on (50,000 by default) the build makes an
HNSW graph instead (``IndexHNSWFlat``, inner product, so cosine as before), whose search
cost grows with the logarithm of the size. HNSW keeps the vectors themselves, so the
incremental build and the searcher can still read a statement's exact vector back.

The kind is recorded in the manifest (``vector_index``) so ``index status`` and the
benchmark can say which one answered.
"""

from __future__ import annotations

import faiss
import numpy as np

FLAT = "flat"
HNSW = "hnsw"
HNSW_M = 32  # links per node: recall above 0.99 at k=50 on the scale benchmark's vectors
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128  # at least Settings.candidates (50), so every candidate comes from the graph search


def index_kind(count: int, threshold: int) -> str:
    """``"hnsw"`` from ``threshold`` statements on, ``"flat"`` below."""
    return HNSW if count >= threshold else FLAT


def build_vector_index(vectors: np.ndarray, dimension: int, threshold: int) -> tuple[faiss.Index, str]:
    """The FAISS index for these (L2-normalized) vectors, and its kind for the manifest."""
    kind = index_kind(len(vectors), threshold)
    index: faiss.Index
    if kind == HNSW:
        graph = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        graph.hnsw.efSearch = HNSW_EF_SEARCH
        index = graph
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index, kind
