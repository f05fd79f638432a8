"""What the learned ranker reads about one question and one candidate statement.

Every feature is a general property of questions and statements — how much of the
question's weight (IDF) a statement's own text, its heading or its lead-in carries;
whether it states an amount when an amount is asked; whether it names the asked drug
or group; its kind and length; how its guideline and its neighbours fared — never a
word list shaped on one guideline. The same function serves training
(:mod:`assistant.evaluation.train_ranker`) and answering, so the two cannot drift.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.ingest.chunking import Chunk
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.retrieval.terms import bm25_tokens
from assistant.vocabulary.drugs import find_drugs, same_drug
from assistant.vocabulary.intent import (
    ABOUT_THE_DOCUMENT,
    ASKS_AGAINST,
    ASKS_CHOICE,
    ASKS_THRESHOLD,
    GRADED,
    NEGATES,
    RECOMMENDS,
    STATES_THRESHOLD,
    is_search_box,
    wanted_kind,
)
from assistant.vocabulary.units import AMOUNT

_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")

FEATURES: tuple[str, ...] = (
    # the searcher's own evidence
    "fused_score",
    "fused_rank_log",
    "dense",
    "dense_gap",
    "dense_rank_log",
    "bm25_relative",
    "coverage",
    # where the question's weight falls: the statement itself, its heading, its title, its lead-in
    "idf_text",
    "idf_text_expanded",
    "idf_section",
    "idf_title",
    "idf_lead_in",
    "idf_text_missing",
    "idf_text_rarest",
    "pairs_text",
    # the statement's shape
    "words_log",
    "fragment",
    "ends_colon",
    "is_bullet",
    "is_table_row",
    "has_lead_in",
    "numbers",
    "has_amount",
    "has_citation",
    "recommends",
    "negates",
    "about_the_document",
    "graded",
    "section_position",
    "section_size_log",
    # the question's shape
    "q_words_log",
    "q_dose",
    "q_drugs",
    "q_terse",
    "q_domain_share",
    "q_against",
    "q_quantity",
    "q_choice",
    "q_threshold",
    # question against statement
    "dose_and_amount",
    "drug_named",
    "drug_dosed",
    "other_drugs",
    "against_and_negates",
    "quantity_stated",
    "threshold_stated",
    "choice_and_recommends",
    # its guideline and its neighbours
    "source_best_dense",
    "source_share",
    "source_is_top",
    "neighbour_best",
)


@dataclass(frozen=True)
class Statement:
    """What the ranker reads of one statement, computed once per statement (questions do not change it)."""

    text_terms: frozenset[str]
    section_terms: frozenset[str]
    title_terms: frozenset[str]
    lead_terms: frozenset[str]
    words: int
    numbers: int
    has_amount: bool
    has_citation: bool
    recommends: bool
    negates: bool
    about_document: bool
    graded: bool
    text_pairs: frozenset[tuple[str, str]]
    states_threshold: bool
    drugs: frozenset[str]
    dosed: frozenset[str]


class StatementTable:
    """Per-statement features and the corpus's term weights, built lazily (a question sees ~60 statements)."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = chunks
        self.rows = {chunk.id: row for row, chunk in enumerate(chunks)}
        self._text_terms = [bm25_tokens(chunk.text) for chunk in chunks]
        frequency: Counter[str] = Counter()
        for terms in self._text_terms:
            frequency.update(set(terms))
        total = max(len(chunks), 1)
        self._idf = {term: math.log(1 + (total - n + 0.5) / (n + 0.5)) for term, n in frequency.items()}
        self._unseen = math.log(1 + (total + 0.5) / 0.5)
        self._statements: dict[int, Statement] = {}
        # Headings, titles and lead-ins are shared by many statements: read each once.
        self._terms: dict[str, frozenset[str]] = {}
        self._drugs: dict[str, frozenset[str]] = {}
        # Where a statement stands in its section: the first ones are often the recommendation itself.
        self.section_position: list[int] = []
        self.section_size: list[int] = []
        sizes: Counter[tuple[str, str | None]] = Counter((chunk.source, chunk.section) for chunk in chunks)
        seen: Counter[tuple[str, str | None]] = Counter()
        for chunk in chunks:
            key = (chunk.source, chunk.section)
            self.section_position.append(seen[key])
            self.section_size.append(sizes[key])
            seen[key] += 1

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._unseen)

    def statement(self, row: int) -> Statement:
        found = self._statements.get(row)
        if found is None:
            found = self._statements[row] = self._describe(self.chunks[row], self._text_terms[row])
        return found

    def describe(self, chunk: Chunk) -> Statement:
        """A statement not in the index (a test's, a caller's own)."""
        return self._describe(chunk, bm25_tokens(chunk.text))

    def _terms_of(self, text: str) -> frozenset[str]:
        if text not in self._terms:
            self._terms[text] = frozenset(bm25_tokens(text))
        return self._terms[text]

    def _drugs_of(self, text: str) -> frozenset[str]:
        if text not in self._drugs:
            self._drugs[text] = frozenset(m.key for m in find_drugs(text)) if text else frozenset()
        return self._drugs[text]

    def _describe(self, chunk: Chunk, text_terms: list[str]) -> Statement:
        text = chunk.text
        lead = chunk.context or ""
        has_amount = bool(AMOUNT.search(text))
        drugs = frozenset(m.key for m in find_drugs(text)) | self._drugs_of(lead)
        # A drugless dose line under a drug's heading is that drug's (as the dose lookup reads it).
        dosed = (drugs or self._drugs_of(chunk.section or "")) if has_amount else frozenset()
        return Statement(
            text_terms=frozenset(text_terms),
            section_terms=self._terms_of(chunk.section or ""),
            title_terms=self._terms_of(chunk.title or ""),
            lead_terms=self._terms_of(lead),
            words=len(text.split()),
            numbers=len(_NUMBER.findall(text)),
            has_amount=has_amount,
            has_citation=bool(chunk.citations),
            recommends=bool(RECOMMENDS.search(text)),
            negates=bool(NEGATES.search(text)),
            about_document=bool(ABOUT_THE_DOCUMENT.search(f"{lead} {text}")),
            graded=bool(GRADED.search(text)),
            text_pairs=_pairs(text_terms),
            states_threshold=bool(STATES_THRESHOLD.search(text)),
            drugs=drugs,
            dosed=dosed,
        )


def _pairs(tokens: Sequence[str]) -> frozenset[tuple[str, str]]:
    """Adjacent term pairs, order-free: "dose reduction" and "reduce the dose" share one."""
    return frozenset(tuple(sorted(pair)) for pair in zip(tokens, tokens[1:], strict=False))  # type: ignore[misc]


@dataclass(frozen=True)
class QueryTerms:
    """The question's own weighted terms and those its synonyms add."""

    own: dict[str, float]
    expanded: dict[str, float]


def query_terms(query: Query, table: StatementTable) -> QueryTerms:
    own = {term: table.idf(term) for term in bm25_tokens(query.normalized)}
    expanded = {term: table.idf(term) for term in bm25_tokens(query.expanded)}
    return QueryTerms(own, expanded)


def _share(weights: dict[str, float], terms: frozenset[str]) -> float:
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(weight for term, weight in weights.items() if term in terms) / total


def feature_matrix(query: Query, hits: Sequence[Hit], table: StatementTable) -> np.ndarray:
    """One row of :data:`FEATURES` per hit, in the hits' order."""
    if not hits:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    terms = query_terms(query, table)
    query_pairs = _pairs(bm25_tokens(query.normalized))
    rows = [table.rows.get(hit.chunk.id, -1) for hit in hits]
    statements = [table.statement(row) if row >= 0 else table.describe(hit.chunk) for row, hit in zip(rows, hits, strict=True)]
    best_dense = max(hit.dense for hit in hits)
    top_bm25 = max((hit.bm25 for hit in hits), default=0.0) or 1.0
    dense_order = {id(hit): rank for rank, hit in enumerate(sorted(hits, key=lambda h: -h.dense))}
    fused_order = {id(hit): rank for rank, hit in enumerate(sorted(hits, key=lambda h: (-h.score, h.rank)))}
    source_best: dict[str, float] = {}
    source_count: Counter[str] = Counter()
    for hit in hits:
        source_best[hit.chunk.source] = max(source_best.get(hit.chunk.source, -1.0), hit.dense)
    for hit in sorted(hits, key=lambda h: -h.dense)[:20]:
        source_count[hit.chunk.source] += 1
    top_source = max(hits, key=lambda h: h.dense).chunk.source
    by_row = {row: hit for row, hit in zip(rows, hits, strict=True) if row >= 0}

    q_words = len(query.text.split())
    asks_dose = query.dose_intent
    asks_against = bool(ASKS_AGAINST.search(query.text))
    kind = wanted_kind(query.text)
    asks_choice = bool(ASKS_CHOICE.search(query.text))
    asks_threshold = bool(ASKS_THRESHOLD.search(query.text))
    terse = is_search_box(query.text)
    domain = len(query.domain_terms) / max(len(terms.own), 1)

    matrix = np.zeros((len(hits), len(FEATURES)), dtype=np.float32)
    for i, (row, hit, st) in enumerate(zip(rows, hits, statements, strict=True)):
        asked_named = any(same_drug(a, d) for a in query.drugs for d in st.drugs)
        asked_dosed = any(same_drug(a, d) for a in query.drugs for d in st.dosed)
        others = sum(1 for d in st.drugs if not any(same_drug(a, d) for a in query.drugs))
        neighbours = [by_row[r].dense for r in (row - 1, row + 1) if row >= 0 and r in by_row]
        all_terms = st.text_terms | st.section_terms | st.title_terms | st.lead_terms
        values = (
            hit.score * 60.0,
            math.log1p(fused_order[id(hit)]),
            hit.dense,
            best_dense - hit.dense,
            math.log1p(dense_order[id(hit)]),
            hit.bm25 / top_bm25,
            hit.coverage,
            _share(terms.own, st.text_terms),
            _share(terms.expanded, st.text_terms),
            _share(terms.own, st.section_terms),
            _share(terms.own, st.title_terms),
            _share(terms.own, st.lead_terms),
            1.0 - _share(terms.own, all_terms),
            max((weight for term, weight in terms.own.items() if term in st.text_terms), default=0.0),
            len(query_pairs & st.text_pairs) / max(len(query_pairs), 1),
            math.log1p(st.words),
            float(st.words <= 4 and not st.numbers and hit.chunk.kind != "table_row"),
            float(hit.chunk.text.rstrip().endswith(":")),
            float(hit.chunk.kind == "bullet"),
            float(hit.chunk.kind == "table_row"),
            float(bool(hit.chunk.context)),
            min(st.numbers, 10),
            float(st.has_amount),
            float(st.has_citation),
            float(st.recommends),
            float(st.negates),
            float(st.about_document),
            float(st.graded),
            min(table.section_position[row], 20) if row >= 0 else 0.0,
            math.log1p(table.section_size[row]) if row >= 0 else 0.0,
            math.log1p(q_words),
            float(asks_dose),
            float(bool(query.drugs)),
            float(terse),
            domain,
            float(asks_against),
            float(kind is not None),
            float(asks_choice),
            float(asks_threshold),
            float(asks_dose and st.has_amount),
            float(asked_named),
            float(asked_dosed),
            min(others, 5),
            float(asks_against and st.negates),
            float(kind is not None and bool(kind.stated.search(hit.chunk.text))),
            float(asks_threshold and st.states_threshold),
            float(asks_choice and st.recommends),
            source_best[hit.chunk.source],
            source_count[hit.chunk.source] / 20.0,
            float(hit.chunk.source == top_source),
            max(neighbours, default=0.0),
        )
        matrix[i] = values
    return matrix
