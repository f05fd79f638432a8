"""Reciprocal-rank fusion on its own: no index, no model."""

from __future__ import annotations

import pytest

from assistant.retrieval.fusion import reciprocal_rank_fusion


def test_ranks_add_up_whatever_the_scores() -> None:
    dense = {1: 0.9, 2: 0.8, 3: 0.1}
    lexical = {3: 12.0, 2: 7.0}
    fused = reciprocal_rank_fusion((dense, lexical), rrf_k=60, k=10)
    assert [row for row, _ in fused] == [3, 2, 1]
    assert [score for _, score in fused] == pytest.approx([1 / 63 + 1 / 61, 1 / 62 + 1 / 62, 1 / 61])


def test_ties_go_to_the_lower_row_and_k_cuts() -> None:
    fused = reciprocal_rank_fusion(({5: 1.0}, {4: 1.0}), rrf_k=60, k=1)
    assert fused == [(4, pytest.approx(1 / 61))]
    assert reciprocal_rank_fusion(({}, {}), rrf_k=60, k=5) == []
