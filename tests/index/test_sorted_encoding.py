"""Length-sorted encoding gives the same vectors as document-order slices, in the caller's order (real model)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
# Short and long texts interleaved, so sorting really moves rows and changes every batch's padding.
MIXED = [
    line
    for pair in zip(
        [line for line in GOOD.splitlines() if len(line) > 120][:12],
        ["Dose", "IVIG 1 g/kg", "Adults", "Children under 12 years", "Steroids", "Rituximab second line"] * 2,
        strict=False,
    )
    for line in pair
]


@pytest.mark.parametrize(
    ("batch_size", "threads"),
    [(4, 1), (5, 2), (64, 1)],  # batches smaller than, not dividing, and larger than the list
)
def test_sorted_batches_give_the_unsorted_vectors_in_order(embedder, batch_size: int, threads: int) -> None:
    one_by_one = np.vstack([embedder.encode([text], threads=1) for text in MIXED])
    sorted_vectors = embedder.encode_sorted(MIXED, batch_size=batch_size, threads=threads)
    assert sorted_vectors.shape == one_by_one.shape
    cosines = np.sum(sorted_vectors * one_by_one, axis=1)
    assert cosines.min() >= 0.99999, f"row {int(cosines.argmin())} changed: cos {cosines.min():.7f}"
    np.testing.assert_allclose(sorted_vectors, one_by_one, atol=2e-6)


def test_sorting_actually_reorders_the_batches(embedder) -> None:
    """Guard for the test above: the mixed list is not already in token order."""
    counts = embedder.token_counts(MIXED)
    assert counts != sorted(counts, reverse=True)
    assert max(counts) > 3 * min(counts)


@pytest.mark.parametrize("total", [0, 1, 7, 130])
def test_progress_counts_to_the_total(embedder, total: int) -> None:
    texts = [f"Statement {i}: give {i} mg of drug {i % 5}." for i in range(total)]
    events: list[tuple[int, int]] = []
    embedder.encode_sorted(texts, batch_size=64, progress=lambda done, of: events.append((done, of)))
    assert events[0] == (0, total)
    assert events[-1] == (total, total)
    assert all(of == total for _, of in events)
    assert [done for done, _ in events] == sorted(done for done, _ in events)
