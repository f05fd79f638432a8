"""Across a library, a similar-sounding statement from a guideline about something else is not an answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant

AIHA = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
TB = """# Tuberculosis: treatment of active disease

## Adjunctive corticosteroids

Offer adjunctive prednisolone to adults with active central nervous system tuberculosis, starting at the same time as antituberculosis treatment.

Offer adjunctive prednisolone to people with active pericardial tuberculosis.

## Drug regimen

Use the standard recommended regimen of isoniazid and rifampicin for 6 months for active respiratory tuberculosis.
"""
PNEUMONIA = """# Community-acquired pneumonia in adults

## Antibiotic therapy

Offer amoxicillin 500 mg three times a day for 5 days to adults with low-severity community-acquired pneumonia.

Offer clarithromycin 500 mg twice a day for 5 days to adults who are allergic to penicillin.
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("library")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in {"aiha.txt": AIHA, "tb.md": TB, "pneumonia.md": PNEUMONIA}.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.load(corpus, root / "index")


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("Should prednisolone be given for Bell's palsy?", "the prednisolone guideline never mentions palsy"),
        ("Should impetigo be treated with a cream or with oral antibiotics?", "no guideline mentions impetigo"),
        ("How is a verruca on a child's foot treated?", "no guideline mentions verrucas"),
    ],
)
def test_a_question_about_something_no_guideline_covers_is_declined(library: Assistant, question: str, why: str) -> None:
    answer = library.ask(question)
    assert answer.abstained, f"{why}; quoted {[q.source for q in answer.quotes]}"
    assert not answer.quotes and not answer.doses


@pytest.mark.parametrize(
    ("question", "source"),
    [
        ("Is thromboprophylaxis needed in severe hemolysis?", "aiha.txt"),
        ("Should prednisolone be given in tuberculous pericarditis?", "tb.md"),
        ("What amoxicillin dose is used for community-acquired pneumonia?", "pneumonia.md"),
        ("What IVIG dose is used in warm AIHA?", "aiha.txt"),
    ],
)
def test_questions_a_guideline_covers_are_answered_from_it(library: Assistant, question: str, source: str) -> None:
    answer = library.ask(question)
    assert not answer.abstained
    assert answer.quotes[0].source == source
