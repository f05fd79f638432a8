"""What a clinician gets across a library: the dose statement, the right condition, the right group.

Regressions from issue 11 on the bundled guideline, and small generated libraries for the mechanisms.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant

AIHA = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
EPILEPSY = """# Status epilepticus in adults

## Immediate measures

Rates of phenytoin infusion may need to be reduced if hypotension or arrhythmia occur in older people.

Within 30 minutes, if seizures continue, give phenytoin 18 mg/kg IV at 50 mg/min with ECG monitoring.

Phenytoin levels should be checked after the loading dose in people with liver disease.
"""
GLIOMA = """# Glioma in adults

## Symptom control

Offer dexamethasone to reduce symptoms of raised intracranial pressure in adults with glioma.

Dexamethasone should be tapered to the lowest effective dose once symptoms improve.
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("library")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in {"aiha.txt": AIHA, "status-epilepticus.md": EPILEPSY, "glioma.md": GLIOMA}.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.load(corpus, root / "index")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Should I anticoagulate?", "Prophylactic anticoagulation"),
        ("can i transfuse", "RBC transfusions"),
        ("my anemia came back after prednisone wat now", "second-line"),
        ("What IVIG dose is used in warm AIHA?", "1 g/kg"),
    ],
)
def test_bundled_questions_get_the_statement_that_answers(assistant: Assistant, question: str, expected: str) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained
    assert any(expected in quote.text for quote in answer.quotes), [quote.text for quote in answer.quotes]


def test_the_flagship_answer_quotes_no_other_condition_and_no_bare_lead_in(assistant: Assistant) -> None:
    answer = assistant.ask("What IVIG dose is used in warm AIHA?")
    assert answer.quotes[0].direct and "1 g/kg" in answer.quotes[0].text
    assert not any("hemophilia" in quote.text for quote in answer.quotes)
    assert not any(quote.text.rstrip().endswith(":") for quote in answer.quotes)


def test_a_condition_the_guideline_does_not_cover_is_not_answered_with_another(assistant: Assistant) -> None:
    answer = assistant.ask("What is the first-line treatment for cold agglutinin disease?")
    assert answer.abstained or any("cold agglutinin" in note.lower() for note in answer.notes)


@pytest.mark.parametrize(
    ("question", "group"),
    [
        ("What IVIG dose is used in warm AIHA in children?", "children"),
        ("Is prednisone safe for warm AIHA in pregnancy?", "pregnancy"),
    ],
)
def test_a_group_the_quotes_do_not_mention_is_said_above_them(assistant: Assistant, question: str, group: str) -> None:
    answer = assistant.ask(question)
    said = [note for note in answer.notes if group in note]
    assert answer.abstained or len(said) == 1, answer.notes  # said once: a note or the dose guardrail's flag


def test_no_group_note_when_the_question_names_none(assistant: Assistant) -> None:
    assert not any("The question is about" in note for note in assistant.ask("What IVIG dose is used?").notes)


def test_a_dose_question_quotes_the_statement_with_the_number(library: Assistant) -> None:
    answer = library.ask("What phenytoin loading dose is used in status epilepticus?")
    assert any("18 mg/kg" in quote.text for quote in answer.quotes), [quote.text for quote in answer.quotes]
    assert "18 mg/kg" in answer.quotes[0].text
    assert all(flag.code.value != "dose_not_specified" for flag in answer.guardrail.flags)


def test_a_dexamethasone_question_about_croup_is_not_answered_from_a_glioma_guideline(library: Assistant) -> None:
    answer = library.ask("What dexamethasone dose is used for croup?")
    assert answer.abstained, [quote.source for quote in answer.quotes]


@pytest.mark.parametrize("question", ["How much IVIG for a 70 kg patient?", "wat dose of ivig for aiha"])
def test_a_dose_question_does_not_quote_another_conditions_non_dose_statement(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert not any("hemophilia" in quote.text for quote in answer.quotes), [quote.text for quote in answer.quotes]
