"""Which grade the parser attaches to which statement, with verbatim offsets, written by these tests.

Each case is a small guideline in one notation; the grade must sit in ``raw`` at
its offsets, like every quote, and belong to the statement it grades.
"""

from __future__ import annotations

import pytest

from assistant.ingest.grades import grades_for
from assistant.ingest.parser import Document, parse_document
from assistant.vocabulary.grades import Grade

ACC_AHA = """# Valve disease

## Aortic stenosis

Class I

1. TTE is recommended in patients with known stenosis. (Level of Evidence: B)
2. Surgical AVR is recommended in symptomatic patients. (Level of Evidence: A)

Class IIa

1. Exercise testing is reasonable in asymptomatic patients. (Level of Evidence: C)

## Women

Statins should be continued in pregnancy only after counselling (Class IIb; Level of Evidence C).
"""
GRADE_INLINE = """# Pancreatitis

## Fluids

Aggressive hydration should be provided to all patients (Strong recommendation, moderate quality of evidence).
Routine antibiotics are not recommended (conditional recommendation, very low quality evidence).
Enteral feeding is preferred to parenteral feeding (Grade 1B).
"""
LETTERS = """# Oxygen

## Targets

Aim at a saturation of 94% to 98% in acutely ill patients (grade D).
- Monitor saturation with a pulse oximeter in all patients. [B]
- Oximetry should be recorded repeatedly during the procedure.

Grades of recommendation

- Grade B: A body of evidence including studies rated as 2++ directly applicable to the target population.
- Grade D: Evidence level 3 or 4 or extrapolated evidence from studies rated as 2+.
"""
TABLE = """# Acne

## Recommendations

| Recommendation | Strength of Recommendation | Level of Evidence | References |
|---|---|---|---|
| Benzoyl peroxide | A | I, II | Mills et al., 1986 |
| Salicylic acid | B | II | Shalita, 1981 |
"""
NICE = """# Tuberculosis (NICE guideline NG33)

National Institute for Health and Care Excellence.

## Latent TB

Offer testing for latent TB to close contacts.
Consider a chest X-ray for people with symptoms.
People who decline should be given written information.
"""
# (document, statement that opens the graded one, grade text, system, strength, evidence, heading, meaning starts)
CASES = [
    (ACC_AHA, "TTE is recommended", "(Level of Evidence: B)", "ACC/AHA", "strong", "moderate", "Class I", None),
    (ACC_AHA, "Surgical AVR", "(Level of Evidence: A)", "ACC/AHA", "strong", "high", "Class I", None),
    (ACC_AHA, "Exercise testing", "(Level of Evidence: C)", "ACC/AHA", "conditional", "low", "Class IIa", None),
    (ACC_AHA, "Statins should", "(Class IIb; Level of Evidence C)", "ACC/AHA", "weak", "low", None, None),
    (GRADE_INLINE, "Aggressive hydration", "(Strong recommendation, moderate quality of evidence)", "GRADE", "strong",
     "moderate", None, None),
    (GRADE_INLINE, "Routine antibiotics", "(conditional recommendation, very low quality evidence)", "GRADE",
     "conditional", "very low", None, None),
    (GRADE_INLINE, "Enteral feeding", "(Grade 1B)", "GRADE", "strong", "moderate", None, None),
    (LETTERS, "Aim at a saturation", "(grade D)", "letter", None, None, None, "Evidence level 3 or 4"),
    (LETTERS, "Monitor saturation", "[B]", "letter", None, None, None, "A body of evidence"),
    (TABLE, "Benzoyl peroxide", "A | I, II", "letter", None, None, None, None),
    (TABLE, "Salicylic acid", "B | II", "letter", None, None, None, None),
    (NICE, "Offer testing", "Offer", "NICE wording", "strong", None, None, None),
    (NICE, "Consider a chest", "Consider", "NICE wording", "conditional", None, None, None),
]


def _graded(raw: str) -> tuple[Document, dict[tuple[int, int], Grade]]:
    document = parse_document(raw, "guide.md")
    grades = grades_for(document)
    for grade in grades.values():
        assert raw[grade.start : grade.end] == grade.text  # verified like every quote
        if grade.heading is not None:
            assert raw[grade.heading_start : grade.heading_end] == grade.heading
    return document, grades


@pytest.mark.parametrize(("raw", "opening", "text", "system", "strength", "evidence", "heading", "meaning"), CASES)
def test_each_statement_gets_the_grade_written_for_it(raw, opening, text, system, strength, evidence, heading, meaning):
    document, grades = _graded(raw)
    statement = next(s for s in document.statements if s.text.startswith(opening))
    grade = grades[(statement.start, statement.end)]
    assert (grade.text, grade.system, grade.strength, grade.evidence, grade.heading) == (
        text, system, strength, evidence, heading
    )
    assert (grade.meaning or "").startswith(meaning or "") and (meaning is not None) == (grade.meaning is not None)


@pytest.mark.parametrize(
    ("raw", "opening"),
    [
        (LETTERS, "Oximetry should be recorded"),  # no grade written for it: none is inferred from its neighbours
        (NICE, "People who decline"),  # NICE wording only where the verb opens the recommendation
        (ACC_AHA, "Valve disease"),
    ],
)
def test_a_statement_without_a_written_grade_gets_none(raw: str, opening: str) -> None:
    document, grades = _graded(raw)
    for statement in document.statements:
        if statement.text.startswith(opening):
            assert (statement.start, statement.end) not in grades


def test_a_grade_that_opens_the_next_sentence_belongs_to_the_one_before() -> None:
    raw = "# Iron\n\n## Tests\n\nFerritin below 100 predicts response. (1A) Values above the cut-off should not guide therapy.\n"
    document, grades = _graded(raw)
    first, second = document.statements[:2]
    assert grades[(first.start, first.end)].text == "(1A)"
    assert (second.start, second.end) not in grades


def test_of_two_grades_in_one_sentence_the_one_grading_the_recommendation_wins() -> None:
    raw = (
        "# Stroke\n\n## Women\n\nBecause preeclampsia raises later risk (Level of Evidence B), it is reasonable to "
        "evaluate women postpartum (Class IIa; Level of Evidence C).\n"
    )
    document, grades = _graded(raw)
    statement = document.statements[0]
    assert grades[(statement.start, statement.end)].text == "(Class IIa; Level of Evidence C)"
