"""A statement's answer type against the question's: what "Direct answer" is allowed to mean."""

from __future__ import annotations

import pytest

from assistant.vocabulary.intent import statement_answers


@pytest.mark.parametrize(
    ("question", "statement", "answers"),
    [
        ("What IVIG dose is used?", "The typical IVIG dosing when used is 1 g/kg as a single dose.", True),
        ("What IVIG dose is used?", "IVIG is used in refractory cases.", False),
        ("What is the first-line treatment for warm AIHA?", "Corticosteroids remain the cornerstone of initial therapy.", True),
        ("What is the treatment for warm AIHA?", "The diagnosis of warm AIHA is made with a positive DAT.", False),
        ("What is the treatment for warm AIHA?", "Start prednisolone at diagnosis.", True),
        ("What medication is used for tics?", "In a survey, 60% of respondents used clonidine.", False),
        ("Which antibiotic is offered for pneumonia?", "Offer amoxicillin for 5 days.", True),
        ("How long should amoxicillin be given?", "Offer amoxicillin for 5 days.", True),
        ("How long should amoxicillin be given?", "Offer amoxicillin.", False),
        ("At what age is it offered?", "Offer it from 12 years of age.", True),
        ("Is IVIG useful in AIHA?", "The evidence is limited.", True),  # no answer type asked
    ],
)  # fmt: skip
def test_statement_answers_the_type_asked(question: str, statement: str, answers: bool) -> None:
    assert statement_answers(question, statement) is answers
