"""Reciprocal-rank fusion: several rankings of the same statements made into one.

Fusion needs no score calibration between rankings (a cosine and a BM25 score are
not on one scale), which is why it is used rather than a weighted sum: each
ranking adds ``1 / (rrf_k + rank)`` for every statement it ranks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def reciprocal_rank_fusion(rankings: Iterable[Mapping[int, float]], rrf_k: int, k: int) -> list[tuple[int, float]]:
    """The ``k`` best (row, fused score) pairs; each ranking maps a row to its score (higher is better).

    Within a ranking, equal scores keep the ranking's own order; fused ties go to the lower row.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        ordered = sorted(ranking, key=lambda row: -ranking[row])
        for rank, row in enumerate(ordered):
            fused[row] = fused.get(row, 0.0) + 1.0 / (rrf_k + rank + 1)
    order = sorted(fused, key=lambda row: (-fused[row], row))[:k]
    return [(row, fused[row]) for row in order]
