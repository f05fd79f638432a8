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

from collections.abc import Callable, Mapping, Sequence

from assistant.ingest.chunking import Chunk
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.settings import Settings
from assistant.vocabulary.drugs import find_drugs, same_drug
from assistant.vocabulary.units import AMOUNT

TOP_SOURCES = 2

DosedRows = list[tuple[int, frozenset[str]]]


class DoseLookup:
    """The dose statements of one set of statements, found per guideline on first use and kept.

    ``rows_by_source`` gives the positions in ``chunks`` of each guideline's statements.
    """

    def __init__(self, chunks: Sequence[Chunk], rows_by_source: Mapping[str, Sequence[int]], settings: Settings) -> None:
        self.chunks = chunks
        self.settings = settings
        self._rows_by_source = rows_by_source
        self._dosed: dict[str, DosedRows] = {}  # per guideline: (row, drugs) of each statement stating an amount

    def statements(self, query: Query, hits: list[Hit], similarity: Callable[[int], float]) -> list[Hit]:
        """Up to ``max_quotes`` statements giving an asked drug's dose, not already in ``hits``, most similar first.

        ``similarity(row)`` is the cosine of the question and the statement at ``row``.
        """
        if not (query.dose_intent and query.drugs) or not hits:
            return []
        seen = {hit.chunk.id for hit in hits}
        ranked = [hit.chunk.source for hit in hits if hit.coverage > self.settings.min_coverage]
        coverage = {hit.chunk.source: hit.coverage for hit in hits}
        extra: list[Hit] = []
        for source in list(dict.fromkeys(ranked))[:TOP_SOURCES]:
            for row, drugs in self.dosed_rows(source):
                chunk = self.chunks[row]
                if chunk.id in seen or not any(same_drug(asked, found) for asked in query.drugs for found in drugs):
                    continue
                rank = len(hits) + len(extra) + 1
                extra.append(Hit(chunk, 0.0, similarity(row), 0.0, rank, coverage.get(source, 1.0)))
        return sorted(extra, key=lambda hit: -hit.dense)[: self.settings.max_quotes]

    def dosed_rows(self, source: str) -> DosedRows:
        """(row, drugs named) for each statement of a guideline that states an amount; cached per guideline."""
        found = self._dosed.get(source)
        if found is None:
            found = []
            for row in self._rows_by_source.get(source, ()):
                drugs = dosed_drugs(self.chunks[row])
                if drugs:
                    found.append((int(row), drugs))
            self._dosed[source] = found  # one assignment: a concurrent question at worst builds it twice
        return found


def dosed_drugs(chunk: Chunk) -> frozenset[str]:
    """The drugs a statement states an amount for: those it (or its lead-in) names, else its heading's.

    "The recommended dose is 0.4 mg per day." under "Folic acid supplementation" is folic acid's.
    Empty when the statement states no amount.
    """
    if not AMOUNT.search(chunk.text):
        return frozenset()
    named = find_drugs(f"{chunk.context or ''} {chunk.text}") or find_drugs(chunk.section or "")
    return frozenset(mention.key for mention in named)
