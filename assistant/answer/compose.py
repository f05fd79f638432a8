"""The answer composer: turns the selected statements into a structured draft answer.

Everything stated as a fact is a verbatim quote with its citation labels; the
only words of our own are the lead line and the notes, kept in their own fields
so the guardrail can add to them and the faces can render them, without anyone
editing Markdown. The composer renders nothing: the Markdown ``answer`` field is
filled once, after the guardrail (``assistant.present.rendered``).
"""

from __future__ import annotations

from assistant.answer.schema import (
    ABSTAIN_MESSAGE,
    LEAD_FOUND,
    Answer,
    Flag,
    Guardrail,
    GuardrailStatus,
    Quote,
    sort_labels,
)
from assistant.answer.select import quote_from_hit
from assistant.retrieval.hit import Hit

__all__ = ["LEAD_FOUND", "compose"]


def citations_by_source(quotes: list[Quote]) -> dict[str, list[str]]:
    """Labels kept per guideline, because [1] in one guideline and [1] in another cite different works."""
    labels: dict[str, set[str]] = {}
    for quote in quotes:
        labels.setdefault(quote.source, set()).update(quote.citations)
    return {source: sort_labels(found) for source, found in labels.items()}


def answer_first(selected: list[Hit]) -> list[Hit]:
    """The best statement first, then the rest of its section, then the other sections by their best rank.

    ``selected`` comes best-first. A clinician reads the direct answer before
    anything else, and supporting statements stay in reading order within their
    section so a bullet list still reads as a list.
    """
    rank = {hit.chunk.id: position for position, hit in enumerate(selected)}
    group_rank: dict[tuple[str, str | None], int] = {}
    for hit in selected:
        group_rank.setdefault((hit.chunk.source, hit.chunk.section), rank[hit.chunk.id])
    best = selected[0].chunk.id if selected else None

    def position(hit: Hit) -> tuple[int, bool, int]:
        group = group_rank[(hit.chunk.source, hit.chunk.section)]
        return (group, hit.chunk.id != best, hit.chunk.start)

    return sorted(selected, key=position)


def compose(
    question: str,
    selected: list[Hit],
    abstained: bool,
    flags: list[Flag],
    summary: str | None,
    notes: list[str] | None = None,
) -> Answer:
    """The draft answer: lead line and quotes in reading order, or an abstention."""
    if abstained:
        return Answer(question=question, abstained=True, lead=ABSTAIN_MESSAGE, summary=summary)
    quotes = [quote_from_hit(hit) for hit in answer_first(selected)]
    quotes[0] = quotes[0].model_copy(update={"direct": True})
    return Answer(
        question=question,
        abstained=False,
        lead=LEAD_FOUND,
        notes=[*(notes or []), *(flag.message for flag in flags)],
        summary=summary,
        quotes=quotes,
        citations=sort_labels([label for quote in quotes for label in quote.citations]),
        citations_by_source=citations_by_source(quotes),
        guardrail=Guardrail(status=GuardrailStatus.WARN if flags else GuardrailStatus.PASS, flags=flags),
    )
