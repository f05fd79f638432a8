"""Hybrid retrieval: dense (FAISS) and BM25 (bm25s), fused by reciprocal rank.

Dense search finds paraphrases and lay wording; BM25 finds exact drug names,
abbreviations and numbers that a small embedding model blurs. The two rankings
are fused by :func:`~assistant.retrieval.fusion.reciprocal_rank_fusion`. Every hit
keeps its dense cosine as well, because that absolute number is what the chain
uses to decide whether the corpus addresses the question at all.

The searcher only searches: what a question shares with the library (typos,
unknown and domain terms, coverage) is :class:`~assistant.retrieval.analysis.QuestionAnalyzer`'s,
and the dose statements of an asked drug are :class:`~assistant.retrieval.dose_lookup.DoseLookup`'s.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import replace
from typing import Any

import bm25s
import faiss
import numpy as np

from assistant.errors import UnknownDocumentError
from assistant.index.build import ensure_index
from assistant.index.embeddings import Embedder, get_embedder
from assistant.index.store import LoadedIndex, Progress
from assistant.retrieval.analysis import QuestionAnalyzer
from assistant.retrieval.dose_lookup import DoseLookup
from assistant.retrieval.fusion import reciprocal_rank_fusion
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.retrieval.terms import bm25_tokens, unique
from assistant.settings import Settings
from assistant.vocabulary.grades import meets
from assistant.vocabulary.normalizer import QueryNormalizer, default_normalizer


class HybridSearcher:
    """Searches one loaded index; cheap to call, expensive to build (holds the model)."""

    def __init__(
        self,
        loaded: LoadedIndex,
        embedder: Embedder,
        settings: Settings,
        normalizer: QueryNormalizer | None = None,
    ) -> None:
        self.loaded = loaded
        self.chunks = loaded.chunks
        self.embedder = embedder
        self.settings = settings
        self.normalizer = normalizer or default_normalizer()
        # b=0.5 (not 0.75): statements that list many drugs are long, and full length
        # normalization would bury the one rare name a question asks about.
        self._bm25 = bm25s.BM25(k1=1.2, b=0.5)
        tokens = [bm25_tokens(chunk.search_text) or ["_"] for chunk in self.chunks]
        self._bm25.index(tokens, show_progress=False)
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            rows.setdefault(chunk.source, []).append(row)
        self._rows_by_source = {source: np.asarray(found, dtype=np.int64) for source, found in rows.items()}
        self.analyzer = QuestionAnalyzer(self.chunks, settings, self.normalizer, tokens)
        self.dose_lookup = DoseLookup(self.chunks, rows, settings)
        self._last = threading.local()  # this thread's current question and its vector (the dose lookup asks again)

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None, notify: Any = None) -> HybridSearcher:
        """Load (building or rebuilding when needed) the index named by the settings."""
        embedder = get_embedder(settings.model)
        loaded = ensure_index(settings, embedder, progress=progress, notify=notify)
        return cls(loaded, embedder, settings)

    @property
    def sources(self) -> list[str]:
        """Every guideline in the index, as quotes name it (``quotes[].source``)."""
        return sorted(self._rows_by_source)

    def restrict(self, query: Query, documents: list[str] | tuple[str, ...] | None) -> Query:
        """The query limited to these guidelines, or an :class:`UnknownDocumentError` listing the real ones."""
        if not documents:
            return query
        names = tuple(dict.fromkeys(str(name).strip() for name in documents))
        unknown = [name for name in names if name not in self._rows_by_source]
        if unknown:
            available = self.sources
            shown = ", ".join(available[:12]) + (f" and {len(available) - 12} more" if len(available) > 12 else "")
            raise UnknownDocumentError(
                f"No guideline named {', '.join(repr(n) for n in unknown)} in this library. "
                f"Available: {shown or 'none'}."
            )
        return replace(query, documents=names)

    def _allowed_rows(self, query: Query) -> np.ndarray | None:
        rows = np.concatenate([self._rows_by_source[source] for source in query.documents]) if query.documents else None
        if not query.min_strength:
            return rows
        graded = self._rows_meeting(query.min_strength)
        return graded if rows is None else np.intersect1d(rows, graded)

    def _rows_meeting(self, minimum: str) -> np.ndarray:
        """The statements whose guideline grades them at least ``minimum`` ("strong recommendations only")."""
        return np.asarray([row for row, chunk in enumerate(self.chunks) if meets(chunk.grade, minimum)], dtype=np.int64)

    def with_min_strength(self, query: Query, minimum: str | None) -> Query:
        """The query limited to recommendations graded at least ``minimum`` (None: every statement)."""
        return replace(query, min_strength=minimum) if minimum else query

    def query_terms(self, query: Query | str) -> tuple[list[str], list[str]]:
        """BM25 tokens of the question itself (typos corrected) and of its synonyms only, each once."""
        query = self.analyze(query) if isinstance(query, str) else query
        normalized = query.normalized
        own = unique(bm25_tokens(normalized) + bm25_tokens(" ".join(self.analyzer.spelling_corrections(normalized))))
        extra = unique(bm25_tokens(" ".join(query.expansions)))
        vocab = self._bm25.vocab_dict
        return [t for t in own if t in vocab], [t for t in extra if t in vocab and t not in own]

    def search(self, query: Query | str, k: int | None = None, timings: dict[str, float] | None = None) -> list[Hit]:
        """The ``k`` best statements for a question (``k=None``: the settings' ``k``, validated there)."""
        query = self.analyze(query) if isinstance(query, str) else query
        k = self.settings.k if k is None else k
        if not self.chunks:
            return []
        started = time.perf_counter()
        query_vector = self.embedder.encode_query(query.expanded)
        self._last.vector = (query.expanded, query_vector)
        if timings is not None:
            timings["embed"] = (time.perf_counter() - started) * 1000
        allowed = self._allowed_rows(query)
        dense_rank = self._dense(query_vector, allowed)
        lexical = self._lexical(query, allowed)
        coverage = self.analyzer.coverage(query, {self.chunks[i].source for i in (*dense_rank, *lexical)})
        hits = self._fuse(dense_rank, lexical, query_vector, k, coverage)
        if timings is not None:
            timings["retrieve"] = (time.perf_counter() - started) * 1000
        return hits

    def encode(self, text: str) -> np.ndarray:
        """The query embedding: the one :meth:`search` just made in this thread, else a fresh one.

        Only the current question's vector is reused (the dose lookup needs it again), so a
        repeated question is always embedded again and timings stay honest.
        """
        last = getattr(self._last, "vector", None)
        if last is not None and last[0] == text:
            return last[1]
        return self.embedder.encode_query(text)

    def analyze(self, question: str) -> Query:
        """The one :class:`Query` for a question (see :meth:`QuestionAnalyzer.analyze`)."""
        return self.analyzer.analyze(question)

    def dose_statements(self, query: Query, hits: list[Hit]) -> list[Hit]:
        """Statements giving an asked drug's dose in the best guidelines (see :class:`DoseLookup`)."""
        vector = functools.cache(lambda: self.encode(query.expanded))  # embedded (or reused) only when needed
        return self.dose_lookup.statements(query, hits, lambda row: self._cosine(row, vector()))

    def _dense(self, query_vector: np.ndarray, allowed: np.ndarray | None = None) -> dict[int, float]:
        """Nearest statements by cosine; with a document filter, only among that filter's rows.

        FAISS's OpenMP threads thrash like torch's on a busy machine (16 ms vs 1.1 ms for 25,000
        statements with one thread): a question's search uses ``query_threads``.
        """
        faiss.omp_set_num_threads(self.settings.query_threads)
        if allowed is not None and not len(allowed):
            return {}  # a filter no statement meets: nothing to search
        if allowed is None:
            count = min(self.settings.candidates, len(self.chunks))
            scores, ids = self.loaded.faiss_index.search(query_vector, count)
        else:
            count = min(self.settings.candidates, len(allowed))
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))  # type: ignore[call-arg]
            scores, ids = self.loaded.faiss_index.search(query_vector, count, params=params)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=False) if i >= 0}

    def _lexical(self, query: Query, allowed: np.ndarray | None = None) -> dict[int, float]:
        """BM25 over the question's own terms, plus synonyms at half weight.

        Synonyms are alternatives, not extra evidence: at full weight a query
        expanded with five names for "refractory" would outweigh the one rare
        drug name the question is really about.
        """
        own, extra = self.query_terms(query)
        if not own and not extra:
            return {}
        scores = self._bm25.get_scores(own) if own else np.zeros(len(self.chunks), dtype=np.float32)
        if extra:
            scores = scores + 0.5 * self._bm25.get_scores(extra)
        if allowed is not None:
            mask = np.zeros(len(self.chunks), dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0)
        count = min(self.settings.candidates, len(self.chunks))
        top = np.argsort(-scores, kind="stable")[:count]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def _fuse(
        self, dense: dict[int, float], lexical: dict[int, float], query_vector: np.ndarray, k: int, coverage: dict[str, float]
    ) -> list[Hit]:
        fused = reciprocal_rank_fusion((dense, lexical), self.settings.rrf_k, k)
        return [
            Hit(
                chunk=self.chunks[idx],
                score=score,
                dense=dense[idx] if idx in dense else self._cosine(idx, query_vector),
                bm25=lexical.get(idx, 0.0),
                rank=rank,
                coverage=coverage.get(self.chunks[idx].source, 1.0),
            )
            for rank, (idx, score) in enumerate(fused, start=1)
        ]

    def _cosine(self, idx: int, query_vector: np.ndarray) -> float:
        vector = self.loaded.faiss_index.reconstruct(idx)
        return float(np.dot(vector, query_vector[0]))
