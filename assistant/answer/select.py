"""Selection: does the library address the question, and which retrieved statements answer it."""

from __future__ import annotations

import re

from assistant.answer.schema import Quote, Reference
from assistant.retrieval.query import Query
from assistant.retrieval.searcher import Hit
from assistant.settings import Settings
from assistant.vocabulary.drugs import find_drugs, same_drug

# A number followed by a dose unit: statements that state an amount.
DOSE_PATTERN = re.compile(r"\d\s*(?:mg|g|mcg|µg|μg|ug|units?|iu|ml)\b", re.IGNORECASE)


def required_similarity(analysis: Query | None, settings: Settings) -> float:
    """How similar the best statement must be before the corpus is taken to address the question.

    A question naming something the corpus never mentions (another disease, another
    drug) needs the strict bar; one sharing no specific term with the corpus (only
    common words) needs the general bar; a question in the guideline's own terms
    needs only the base bar. The three values are calibrated on the gold set.
    """
    if analysis is None:
        return settings.general_threshold
    if analysis.unknown_terms:
        return settings.strict_threshold
    if analysis.unfamiliar_terms and len(analysis.unfamiliar_terms) >= len(analysis.domain_terms):
        return settings.strict_threshold
    if not analysis.domain_terms:
        return settings.general_threshold
    return settings.abstain_threshold


def select_statements(query: Query, hits: list[Hit], settings: Settings) -> tuple[bool, list[Hit]]:
    """Decide whether the corpus addresses the question, and which statements answer it.

    The dense cosine is the one absolute signal (fused scores are only ranks), so
    it decides abstention; statements close to the best one are quoted too, up to
    ``max_quotes``. A statement whose guideline uses at most ``min_coverage`` of the
    question's specific terms must reach ``uncovered_threshold``: otherwise it is a
    quote from the wrong guideline. For a dose question, statements that state an
    amount go first.
    """
    if not hits:
        return True, []
    required = required_similarity(query, settings)
    hits = [hit for hit in hits if hit.coverage > settings.min_coverage or hit.dense >= settings.uncovered_threshold]
    if not hits or max(hit.dense for hit in hits) < required:
        return True, []
    relevance = _relevance(hits, settings.lexical_weight)
    best = max(relevance.values())
    keep = [hit for hit in hits if relevance[hit.chunk.id] >= best - settings.select_margin and hit.dense >= required]
    keep = _about_the_drugs_asked(query, keep)
    dose_first = query.dose_intent
    keep.sort(key=lambda hit: (dose_first and not DOSE_PATTERN.search(hit.chunk.text), -relevance[hit.chunk.id]))
    return False, _drop_redundant_lead_ins(keep[: settings.max_quotes])


def _relevance(hits: list[Hit], lexical_weight: float) -> dict[str, float]:
    """Cosine plus a share of the BM25 score relative to the best one.

    The lexical part lets an exact rare term (a drug name in a long list) count
    even when the embedding of a long statement is diluted by its other words.
    """
    top_bm25 = max((hit.bm25 for hit in hits), default=0.0) or 1.0
    return {hit.chunk.id: hit.dense + lexical_weight * hit.bm25 / top_bm25 for hit in hits}


def _about_the_drugs_asked(query: Query, hits: list[Hit]) -> list[Hit]:
    """When the question names drugs, quote the statements that mention them.

    Without this, a question about IVIG dosing also quotes the rituximab dose
    because both sit in the same section; a clinician skimming the quotes
    could read the wrong number. Falls back to all hits when none mentions them.
    """
    asked = list(query.drugs)
    if not asked:
        return hits
    about = [
        hit
        for hit in hits
        if any(same_drug(key, m.key) for key in asked for m in find_drugs(f"{hit.chunk.context or ''} {hit.chunk.text}"))
    ]
    return about or hits


def _drop_redundant_lead_ins(selected: list[Hit]) -> list[Hit]:
    """A lead-in sentence adds nothing when one of its bullets is quoted: the bullet shows it as context."""
    contexts = {hit.chunk.context for hit in selected if hit.chunk.context}
    return [hit for hit in selected if hit.chunk.text not in contexts or len(selected) == 1]


def quote_from_hit(hit: Hit) -> Quote:
    chunk = hit.chunk
    return Quote(
        text=chunk.text,
        citations=list(chunk.citations),
        source=chunk.source,
        title=chunk.title or None,
        section=chunk.section,
        context=chunk.context,
        start=chunk.start,
        end=chunk.end,
        score=round(hit.dense, 4),
        chunk_id=chunk.id,
        page=chunk.page,
        page_label=chunk.page_label,
        offsets="canonical" if chunk.offsets == "canonical" else "raw",
        kind=chunk.kind,
        references=[Reference(label=label, text=text) for label, text in chunk.references.items()],
    )
