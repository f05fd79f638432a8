"""Which quoted guideline is newer, said when an answer quotes guidelines of different years.

Two guidelines on the same drug or condition can disagree because one is older;
a clinician weighing them needs to see that at once. The note names each
guideline's year as the guideline itself states it (``DocumentMeta.year``) and
which is the newest; it never says which is right.
"""

from __future__ import annotations

from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query


def recency_notes(query: Query, selected: list[Hit]) -> list[str]:
    """One note when the quotes come from guidelines of different years and the question names a drug or condition."""
    if not (query.drugs or query.conditions):
        return []
    years: dict[str, int] = {}
    for hit in selected:
        if hit.chunk.year is not None:
            years.setdefault(hit.chunk.title or hit.chunk.source, hit.chunk.year)
    if len(years) < 2 or len(set(years.values())) < 2:
        return []
    ordered = sorted(years.items(), key=lambda item: -item[1])
    newest, year = ordered[0]
    older = "; ".join(f"{title} ({when})" for title, when in ordered[1:])
    return [
        f"These quotes come from guidelines of different years: {newest} ({year}) is the newer; also quoted: {older}. "
        "Where they differ, check which reflects current practice."
    ]
