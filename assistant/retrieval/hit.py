"""One retrieved statement with the evidence for its rank."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.ingest.chunking import Chunk


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with the evidence for its rank."""

    chunk: Chunk
    score: float  # fused reciprocal-rank score: orders hits, not comparable across queries
    dense: float  # cosine similarity of question and chunk: comparable across queries
    bm25: float
    rank: int
    coverage: float = 1.0  # share of the question's specific terms its guideline uses anywhere
    learned: float | None = None  # the learned ranker's score (orders hits within one question only)
