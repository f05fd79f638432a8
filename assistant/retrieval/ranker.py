"""The learned ranker: reorders the searcher's candidates by how likely each one answers the question.

Reciprocal-rank fusion puts the right statement among the top 50 for nearly every
question but first for only about half: it cannot tell a short dose line from a long
statement that merely repeats the drug's name, or a treatment recommendation from a
prevention list. A gradient-boosted ranking model (LightGBM ``lambdarank``, the field's
standard for learning to rank) over general features (:mod:`~assistant.retrieval.features`)
learns that ordering from gold questions.

The model is a LightGBM text file (never a pickle): the one shipped in the package
(``assistant/data/ranker.txt``, made by ``guideline-assistant train-ranker``), or one a
library's own gold questions trained and stored beside its index. A missing, damaged
or mismatched file falls back to the shipped model, and without any model the
searcher's own order stands; either way with a note, never an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.index.ranker_file import RANKER_FILE, read_ranker_text
from assistant.ingest.chunking import Chunk
from assistant.retrieval.features import FEATURES, StatementTable, feature_matrix
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.retrieval.searcher import HybridSearcher

log = logging.getLogger(__name__)

MODEL_FILE = "ranker.txt"  # the shipped model, in assistant/data/


@dataclass(frozen=True)
class RankerModel:
    """A loaded LightGBM booster and where it came from."""

    booster: object
    origin: str  # "index", "shipped"

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(matrix, num_threads=1), dtype=np.float64)  # type: ignore[attr-defined]


SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "data" / MODEL_FILE


def shipped_model_text() -> str | None:
    try:
        return SHIPPED_MODEL.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return None


def parse_model(text: str, origin: str) -> RankerModel:
    """A booster from LightGBM's text format, refused (``ValueError``) unless it reads exactly :data:`FEATURES`."""
    import lightgbm

    try:
        booster = lightgbm.Booster(model_str=text)
    except lightgbm.basic.LightGBMError as exc:
        raise ValueError(f"not a LightGBM model ({str(exc).splitlines()[0][:120]})") from exc
    if list(booster.feature_name()) != list(FEATURES):
        raise ValueError("its features are not the ones this version computes; retrain with train-ranker")
    return RankerModel(booster, origin)


def load_model(index_dir: Path | None) -> tuple[RankerModel | None, list[str]]:
    """This index's own model, else the shipped one; the notes say why one was passed over."""
    notes: list[str] = []
    if index_dir is not None:
        try:
            stored = read_ranker_text(Path(index_dir))
            if stored is not None:
                return parse_model(stored, "index"), notes
        except (ValueError, OSError) as exc:
            notes.append(
                f"The ranker stored with this index ({Path(index_dir) / RANKER_FILE}) cannot be used: {exc}. "
                "Using the shipped one; run `guideline-assistant train-ranker` again."
            )
    text = shipped_model_text()
    if text is None:
        return None, notes
    try:
        return parse_model(text, "shipped"), notes
    except ValueError as exc:  # pragma: no cover - the shipped file is tested
        notes.append(f"The shipped ranker cannot be used: {exc}. Ranking by search order only.")
        return None, notes


class Ranker:
    """Reorders candidates; ``model=None`` keeps the searcher's order (scores are then the fused ones)."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        model: RankerModel | None,
        notes: Sequence[str] = (),
        table: StatementTable | None = None,
    ) -> None:
        self.table = table if table is not None else StatementTable(chunks)
        self.model = model
        self.notes = list(notes)
        for note in self.notes:
            log.warning(note)

    @classmethod
    def load(cls, chunks: Sequence[Chunk], index_dir: Path | None) -> Ranker:
        model, notes = load_model(index_dir)
        return cls(chunks, model, notes)

    def unranked(self) -> Ranker:
        """The searcher's order over the same statements (no model; the statement table is shared)."""
        return Ranker(self.table.chunks, None, table=self.table)

    @property
    def origin(self) -> str:
        return self.model.origin if self.model is not None else "none"

    def scores(self, query: Query, hits: Sequence[Hit]) -> np.ndarray:
        if self.model is None or not hits:
            return np.asarray([hit.score for hit in hits], dtype=np.float64)
        return self.model.predict(feature_matrix(query, hits, self.table))

    def rank(self, query: Query, hits: Sequence[Hit]) -> list[Hit]:
        """The hits best first, each carrying its learned score; ties keep the searcher's order."""
        if self.model is None:  # no usable model: the searcher's order, and selection by similarity as before
            return list(hits)
        if not hits:
            return []
        scores = self.scores(query, hits)
        order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
        return [replace(hits[i], learned=float(scores[i]), rank=rank) for rank, i in enumerate(order, start=1)]


def candidates(
    searcher: HybridSearcher, query: Query, depth: int, timings: dict[str, float] | None = None
) -> tuple[list[Hit], list[Hit]]:
    """What the ranker orders: the searcher's ``depth`` best, and the asked drug's dose statements it missed."""
    hits = searcher.search(query, k=depth, timings=timings)
    return hits, searcher.dose_statements(query, hits)


def ranked_search(
    searcher: HybridSearcher,
    ranker: Ranker,
    query: Query,
    k: int,
    depth: int,
    timings: dict[str, float] | None = None,
) -> list[Hit]:
    """The ``k`` best statements in the learned order, then any dose statement of an asked drug below them.

    The dose statements stay available (unquoted unless selected) so that "is a dose given?"
    is settled on every statement that gives one, not only on the ``k`` best.
    """
    searched, looked_up = candidates(searcher, query, max(depth, k), timings)
    started = time.perf_counter()
    ranked = ranker.rank(query, searched + looked_up)
    if timings is not None:
        timings["rank"] = (time.perf_counter() - started) * 1000
    top = ranked[:k]
    # As before ranking: the asked drug's dose statements in the guidelines of the k best, looked up
    # against those k (a statement among the candidates but below the k best counts as missing).
    by_id = {hit.chunk.id: hit for hit in ranked}
    return top + [by_id.get(hit.chunk.id, hit) for hit in searcher.dose_statements(query, top)]
