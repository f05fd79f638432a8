"""Who a question is about: a statement for adults is not an answer about children.

When a question names a group (children, pregnancy, older adults, kidney
impairment...) and none of the quoted statements, nor their guideline's title
or section, names that group, the quotes may well be about someone else. The
answer then says so above the quotes, in our own words, for every kind of
question (the dose guardrail separately flags doses stated for another context).
"""

from __future__ import annotations

from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.vocabulary.normalizer import contains_term, default_normalizer
from assistant.vocabulary.populations import named_populations, populations
from assistant.vocabulary.units import AMOUNT

__all__ = ["named_populations", "population_notes", "populations", "scope_text", "unknown_term_notes"]


def scope_text(hits: list[Hit]) -> str:
    """What the quoted statements are about, normalized: their guideline titles, sections, lead-ins and words."""
    return default_normalizer().normalize(
        " ".join(f"{h.chunk.title} {h.chunk.section or ''} {h.chunk.context or ''} {h.chunk.text}" for h in hits)
    )


def unknown_term_notes(query: Query, selected: list[Hit]) -> list[str]:
    """A note when the question names something no guideline here mentions, yet statements were quoted.

    The bar for answering is already higher then; when a statement clears it anyway
    ("IVIG dose ... in cold agglutinin disease?" quoting the warm-AIHA IVIG dose), the
    reader must still be told that the quotes do not concern what was named.
    """
    if not selected or not query.unknown_terms:
        return []
    scope = scope_text(selected)
    missing = [term for term in query.unknown_terms if not contains_term(scope, term)]
    if not missing:
        return []
    named = ", ".join(f"“{term}”" for term in missing)
    return [
        f"The question names {named}, which no guideline in this library mentions: the statements below are "
        f"about something else and do not answer for {named}."
    ]


def population_notes(query: Query, selected: list[Hit]) -> list[str]:
    """One note per group the question names that no quoted statement (or its title/section) names.

    A dose question about a named drug is left to the dose guardrail, which says the same of the
    quoted doses (a context flag); one message is enough.
    """
    if not selected:
        return []
    if query.dose_intent and query.drugs and any(AMOUNT.search(hit.chunk.text) for hit in selected):
        return []
    normalizer = default_normalizer()
    scope = scope_text(selected)
    titles = ", ".join(dict.fromkeys(f"“{hit.chunk.title}”" for hit in selected if hit.chunk.title))
    notes: list[str] = []
    for name in named_populations(query.text, normalizer):
        if any(contains_term(scope, word) for word in populations()[name]):
            continue
        notes.append(
            f"The question is about {name}, but none of the quoted statements is stated for {name}"
            + (f" (they come from {titles})" if titles else "")
            + ". Check that they apply before using them."
        )
    return notes
