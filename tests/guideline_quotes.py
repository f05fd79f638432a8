"""Real statements of the bundled guideline as Quotes, and draft answers built from them.

Shared by the guardrail and calculator tests so both check against the same
verbatim text and offsets the chain would produce.
"""

from __future__ import annotations

from pathlib import Path

from assistant.answer import ABSTAIN_MESSAGE, Answer, Quote
from assistant.answer.schema import LEAD_FOUND

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "ivig-in-aiha.txt"
RAW = CORPUS.read_text(encoding="utf-8")
SEVERE = "In life-threatening, treatment-resistant warm AIHA, consider this combination approach:"


def quote(text: str, citations: list[str], section: str, context: str | None = None) -> Quote:
    """A Quote exactly as the chain would build it: verbatim text with offsets into the corpus file."""
    start = RAW.find(text)
    assert start >= 0, text
    return Quote(
        text=text,
        citations=citations,
        source="ivig-in-aiha.txt",
        section=section,
        context=context,
        start=start,
        end=start + len(text),
        chunk_id=f"ivig-in-aiha.txt#{start}",
    )


IVIG = quote(
    "The typical IVIG dosing when used is 1 g/kg as a single dose, which may be repeated if necessary.",
    ["1"],
    "First-Line Treatment Approach",
)
PRED = quote(
    "The standard regimen is prednisone 1 mg/kg/day, tapered slowly over 6-12 months.",
    ["4", "5"],
    "First-Line Treatment Approach",
)
MP = quote(
    "High-dose corticosteroids (methylprednisolone 1g IV daily for 3 days)", ["2"], "Severe Refractory Cases", SEVERE
)
RTX = quote("Rituximab (375 mg/m² weekly × 4 doses)", ["6", "4"], "Severe Refractory Cases", SEVERE)
LOW_IVIG = quote(
    "Low-dose IVIG (combined with plasma exchange to prevent rebound)", ["6"], "Severe Refractory Cases", SEVERE
)
AZA = quote(
    "Immunosuppressive drugs (azathioprine, cyclophosphamide, cyclosporine, mycophenolate mofetil)",
    ["3", "4"],
    "Second-Line Treatment Hierarchy",
    "For corticosteroid-refractory or relapsed AIHA, the preferred sequence is:",
)
ALL = [IVIG, PRED, MP, RTX, LOW_IVIG, AZA]


def draft(question: str, quotes: list[Quote], summary: str | None = None, abstained: bool = False) -> Answer:
    """A draft answer as the chain hands it to the guardrail: data only (rendered after the guardrail)."""
    lead = ABSTAIN_MESSAGE if abstained else LEAD_FOUND
    return Answer(question=question, abstained=abstained, lead=lead, summary=summary, quotes=quotes, citations=[])
