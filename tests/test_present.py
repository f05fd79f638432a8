"""Presentation: the answer's parts become Markdown in one place, in one order, without editing text."""

from __future__ import annotations

import pytest

from assistant.answer.schema import ABSTAIN_MESSAGE, LEAD_FOUND, Answer, DoseInfo, Quote
from assistant.present import DOSE_COLUMNS, dose_cells, markdown, quote_location

QUOTE = Quote(text="IVIG 1 g/kg as a single dose.", citations=["1"], source="g.txt", section="Dose", start=0, end=29, chunk_id="a")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer(question="q", abstained=True, lead=ABSTAIN_MESSAGE), ABSTAIN_MESSAGE),
        (
            Answer(question="q", abstained=False, lead=LEAD_FOUND, quotes=[QUOTE]),
            f"{LEAD_FOUND}\n\n> IVIG 1 g/kg as a single dose. [1]\n\n*Source: Dose — g.txt*",
        ),
        (
            Answer(question="q", abstained=False, lead=LEAD_FOUND, notes=["A note."], summary="Short.", quotes=[QUOTE]),
            f"Short.\n\nA note.\n\n{LEAD_FOUND}\n\n> IVIG 1 g/kg as a single dose. [1]\n\n*Source: Dose — g.txt*",
        ),
        (
            Answer(question="q", abstained=False, lead=LEAD_FOUND, summary="IVIG 5 g/kg.", summary_withheld=True, quotes=[QUOTE]),
            f"{LEAD_FOUND}\n\n> IVIG 1 g/kg as a single dose. [1]\n\n*Source: Dose — g.txt*",
        ),
    ],
    ids=["abstained", "quotes", "summary-and-notes-above-the-lead", "withheld-summary-never-shown"],
)
def test_markdown_is_rendered_from_the_parts(answer: Answer, expected: str) -> None:
    assert markdown(answer) == expected


def test_the_lead_line_sits_directly_above_the_quotes() -> None:
    text = markdown(Answer(question="q", abstained=False, lead=LEAD_FOUND, notes=["N1.", "N2."], quotes=[QUOTE]))
    assert text.index("N2.") < text.index(LEAD_FOUND) < text.index("> IVIG")


def test_a_pdf_quote_names_its_page() -> None:
    pdf = QUOTE.model_copy(update={"source": "g.pdf", "page": 4, "page_label": "ii", "offsets": "canonical"})
    assert quote_location(pdf) == "Dose — g.pdf, p. ii"


def test_dose_cells_follow_the_columns() -> None:
    answer = Answer(
        question="q",
        abstained=False,
        doses=[DoseInfo(text="1 g/kg", drug="IVIG", schedule="single dose", citations=["1"])],
    )
    assert dose_cells(answer) == [("IVIG", "1 g/kg", "single dose", "—", "[1]")]
    assert len(dose_cells(answer)[0]) == len(DOSE_COLUMNS)
