"""Guideline statements for the regimen probes: the bundled guideline's, and small fixtures written here.

The fixture statements are our own words (no library text), each a regimen of a kind the
bundled guideline lacks: a route stated only in the sentence, a dose every 6 hours, a range
written with the unit twice, a course in weeks, an IV push, a fixed dose by injection.
"""

from __future__ import annotations

from guideline_quotes import IVIG, MP, PRED, RTX

from assistant.answer import Quote

__all__ = ["CEFO", "CEFTRI", "DEXA", "IM_ONLY", "IRON", "IVIG", "MP", "MTX", "PRED", "RTX", "SALB", "fixture"]


def fixture(text: str, section: str = "Treatment", context: str | None = None) -> Quote:
    """A statement of a small guideline the test writes itself (offsets into that one statement)."""
    return Quote(
        text=text,
        citations=["1"],
        source="written-fixture.txt",
        section=section,
        context=context,
        start=0,
        end=len(text),
        chunk_id="written-fixture.txt#0",
    )


# The route is in the sentence, not right after the amount: "given by intramuscular injection".
CEFTRI = fixture("For this infection, ceftriaxone 1 g is given by intramuscular injection once a day for 7 days.")
# A dose every 6 hours, for a course in days.
CEFO = fixture("Cefotaxime 50 mg/kg IV every 6 hours for 10 days is advised in this setting.")
# A range written with the unit after both amounts, the drug between the dose and "per day".
IRON = fixture("Children receive 3 mg/kg to 6 mg/kg of elemental iron per day for 3 months.", section="Children")
# A short fixed course.
DEXA = fixture("Dexamethasone 0.15 mg/kg orally twice daily for 2 days may be used.")
# A route written as an adverb after the amount, weekly for a number of doses.
MTX = fixture("Methotrexate 12 mg is given intrathecally once a week for 4 doses.")
# A fixed dose whose only route is in the section heading.
IM_ONLY = fixture("Gentamicin 5 mg/kg once daily for 7 days.", section="Intramuscular treatment")
# A nebulised dose.
SALB = fixture("Salbutamol 5 mg nebulised every 20 minutes for 3 doses.")
