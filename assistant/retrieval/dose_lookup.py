"""For a dose question, every statement in the best guidelines that gives the asked drug's dose.

Fused ranking favours statements that repeat the question's words ("rates of
phenytoin infusion may need to be reduced") over the one that gives the number
("phenytoin 18 mg/kg IV 50 mg/min"). Saying "the guideline gives no dose" when
it does is the second-worst failure, so these statements are offered to
selection and to the dose guardrail. Only guidelines that already rank and cover
the question are searched, so a dose from an unrelated guideline is never
pulled in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.ingest.chunking import Chunk
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.vocabulary.drugs import find_drugs, same_drug
from assistant.vocabulary.units import AMOUNT

if TYPE_CHECKING:
    from assistant.retrieval.searcher import HybridSearcher

TOP_SOURCES = 2


def dose_statements(searcher: HybridSearcher, query: Query, hits: list[Hit]) -> list[Hit]:
    """Up to ``max_quotes`` such statements not already in ``hits``, most similar first."""
    if not (query.dose_intent and query.drugs) or not hits:
        return []
    seen = {hit.chunk.id for hit in hits}
    ranked = [hit.chunk.source for hit in hits if hit.coverage > searcher.settings.min_coverage]
    coverage = {hit.chunk.source: hit.coverage for hit in hits}
    vector = searcher.encode(query.expanded)
    extra: list[Hit] = []
    for source in list(dict.fromkeys(ranked))[:TOP_SOURCES]:
        for row, drugs in dosed_rows(searcher, source):
            chunk = searcher.chunks[row]
            if chunk.id in seen or not any(same_drug(asked, found) for asked in query.drugs for found in drugs):
                continue
            rank = len(hits) + len(extra) + 1
            extra.append(Hit(chunk, 0.0, searcher.cosine(row, vector), 0.0, rank, coverage.get(source, 1.0)))
    return sorted(extra, key=lambda hit: -hit.dense)[: searcher.settings.max_quotes]


def dosed_drugs(chunk: Chunk) -> frozenset[str]:
    """The drugs a statement states an amount for: those it (or its lead-in) names, else its heading's.

    "The recommended dose is 0.4 mg per day." under "Folic acid supplementation" is folic acid's.
    Empty when the statement states no amount.
    """
    if not AMOUNT.search(chunk.text):
        return frozenset()
    named = find_drugs(f"{chunk.context or ''} {chunk.text}") or find_drugs(chunk.section or "")
    return frozenset(mention.key for mention in named)


def dosed_rows(searcher: HybridSearcher, source: str) -> list[tuple[int, frozenset[str]]]:
    """(row, drugs named) for each statement of a guideline that states an amount; cached per guideline."""
    if source not in searcher.dosed_drugs:
        found: list[tuple[int, frozenset[str]]] = []
        for row in searcher.rows_of(source):
            chunk = searcher.chunks[row]
            drugs = dosed_drugs(chunk)
            if drugs:
                found.append((row, drugs))
        searcher.dosed_drugs[source] = found
    return searcher.dosed_drugs[source]
