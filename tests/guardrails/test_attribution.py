"""Issue 12: doses belong to their own drug, lab thresholds are not doses, "no dose given" only when true,
doses bound to another context are flagged, and one drug's different doses are said to differ.

Through the real chain: the bundled corpus (the session ``assistant``), and small generated
two-guideline corpora (``make_corpus``).
"""

from __future__ import annotations

import re

import pytest
from guideline_quotes import ALL, IVIG, LOW_IVIG, RTX, draft

from assistant import Assistant
from assistant.answer import Answer, FlagCode, GuardrailStatus, Quote
from assistant.answer.select import quote_from_hit
from assistant.guardrails import apply_guardrail
from assistant.guardrails.doses import parse_doses
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query

PNEUMONIA = """# Community-acquired pneumonia: antibiotic treatment

## Severe pneumonia in adults

For severe community-acquired pneumonia, offer co-amoxiclav 1.2 g IV every 8 hours plus clarithromycin 500 mg IV twice daily for 5 days. [1]
If creatinine clearance is below 30 mL/min, reduce clarithromycin to 250 mg twice daily. [2]

## Non-severe pneumonia in adults

For low-severity community-acquired pneumonia, offer amoxicillin 1 g orally three times daily for 5 days. [3]
"""
SINUSITIS = """# Acute sinusitis: antibiotic prescribing

## Antibiotic choice for adults

If an antibiotic is needed for acute sinusitis, offer amoxicillin 500 mg orally three times daily for 5 days. [1]
"""


@pytest.fixture
def library(make_corpus) -> Assistant:
    """Two guidelines in one library: pneumonia and sinusitis."""
    return Assistant.load(settings=make_corpus({"pneumonia.md": PNEUMONIA, "sinusitis.md": SINUSITIS}))


# --- attribution and lab thresholds ---------------------------------------------------------------------

ATTRIBUTION = [
    (
        "offer co-amoxiclav 1.2 g IV every 8 hours plus clarithromycin 500 mg IV twice daily",
        [("1.2 g IV every 8 hours", "co-amoxiclav"), ("500 mg IV twice daily", "clarithromycin")],
    ),
    (
        "Give clarithromycin with co-amoxiclav 1.2 g IV q8h",
        [("1.2 g IV q8h", "co-amoxiclav")],
    ),
    (
        "prednisone 1 mg/kg/day; then rituximab 375 mg/m2 weekly",
        [("1 mg/kg/day", "prednisone"), ("375 mg/m2 weekly", "rituximab")],
    ),
    (
        "amoxicillin-clavulanate 875 mg twice daily plus azithromycin 500 mg daily",
        [("875 mg twice daily", "co-amoxiclav"), ("500 mg daily", "azithromycin")],
    ),
]


@pytest.mark.parametrize(("text", "expected"), ATTRIBUTION, ids=[a[0] for a in ATTRIBUTION])
def test_each_dose_belongs_to_the_nearest_drug_in_its_clause(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(dose.text, dose.drug_key) for dose in parse_doses(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "If creatinine clearance is below 30 mL/min, reduce the dose.",
        "eGFR 45 mL/min/1.73 m2",
        "CrCl < 50 mL/min",
        "Target anti-Xa 0.5-1 IU/mL",
        "potassium above 5.5 mmol/L",
        "INR of 2-3",
        "platelet count below 50 x 10^9/L",
        "transfuse when haemoglobin is below 70 g/L",
        "response in 70-85% of patients",
        "hemoglobin below 7 g/dL",
    ],
)
def test_lab_thresholds_are_never_doses(text: str) -> None:
    assert parse_doses(text) == []


def test_dose_table_over_a_library_attributes_and_places_each_dose(library: Assistant) -> None:
    answer = library.ask("What antibiotics for severe community-acquired pneumonia?")
    rows = {(dose.drug, dose.text) for dose in answer.doses}
    assert ("co-amoxiclav", "1.2 g IV every 8 hours") in rows
    assert not any(drug == "clarithromycin" and "1.2 g" in text for drug, text in rows)
    assert not any("mL/min" in text for _, text in rows)
    for dose in answer.doses:
        assert dose.title and dose.section and dose.source, dose


def test_same_drug_different_doses_says_they_differ(library: Assistant) -> None:
    answer = library.ask("amoxicillin dose?")
    texts = {dose.text.split(" orally")[0] for dose in answer.doses if dose.drug == "amoxicillin"}
    assert {"500 mg", "1 g"} <= texts, answer.doses
    flag = next(f for f in answer.guardrail.flags if f.code is FlagCode.DOSES_DIFFER)
    assert flag.message.startswith("Doses differ by indication/guideline:")
    assert "Acute sinusitis" in flag.message and "Community-acquired pneumonia" in flag.message
    assert answer.answer.index("Doses differ") < answer.answer.index("The guideline says")
    assert {dose.section for dose in answer.doses if dose.drug == "amoxicillin"} == {
        "Antibiotic choice for adults",
        "Non-severe pneumonia in adults",
    }


def test_one_dose_per_drug_raises_no_differ_note() -> None:
    result = apply_guardrail("What are the doses?", draft("What are the doses?", ALL))
    assert FlagCode.DOSES_DIFFER not in [flag.code for flag in result.guardrail.flags]


# --- "no dose given" only when true ---------------------------------------------------------------------

ISSUE_12_DOSE_QUESTIONS = [
    "wat dose of ivig for aiha",
    "how much intravenous immunoglobulin do i give",
    "Pt weighs 154 lb, how much IVIG?",
    "How many grams of IVIG should a 70 kg patient with warm AIHA get?",
    "rituxamab dose",
]


def library_statements(assistant: Assistant) -> list[Quote]:
    """Every statement in the index as a quote: what the chain may pass to the guardrail."""
    return [quote_from_hit(Hit(chunk=c, score=0.0, dense=0.0, bm25=0.0, rank=0)) for c in assistant.searcher.chunks]


@pytest.fixture(scope="module")
def with_library(assistant) -> Assistant:
    """The real chain over the bundled corpus, its guardrail given the library's statements."""
    statements = library_statements(assistant)

    def guard(query: Query, answer: Answer) -> Answer:
        return apply_guardrail(query, answer, statements=statements)

    return Assistant(assistant.searcher, assistant.settings, guard=guard)


@pytest.mark.parametrize("question", ISSUE_12_DOSE_QUESTIONS)
def test_no_false_dose_not_specified_when_the_library_states_the_dose(with_library: Assistant, question: str) -> None:
    answer = with_library.ask(question)
    assert FlagCode.DOSE_NOT_SPECIFIED not in [flag.code for flag in answer.guardrail.flags], answer.guardrail
    assert any(re.search(r"1 g/kg|375 mg/m²", quote.text) for quote in answer.quotes)
    assert "does not give a dose" not in answer.answer


@pytest.mark.parametrize(
    ("question", "shown", "expected"),
    [
        ("wat dose of ivig for aiha", [LOW_IVIG], "1 g/kg"),
        ("How many grams of IVIG should a 70 kg patient with warm AIHA get?", [LOW_IVIG], "1 g/kg"),
        ("rituxamab dose", [IVIG], "375 mg/m²"),
    ],
)
def test_a_passed_statement_with_the_dose_is_quoted_instead_of_not_specified(
    question: str, shown: list[Quote], expected: str
) -> None:
    without = apply_guardrail(question, draft(question, shown))
    assert FlagCode.DOSE_NOT_SPECIFIED in [flag.code for flag in without.guardrail.flags]
    result = apply_guardrail(question, draft(question, shown), statements=ALL)
    assert FlagCode.DOSE_NOT_SPECIFIED not in [flag.code for flag in result.guardrail.flags]
    assert any(expected in quote.text for quote in result.quotes[len(shown) :])
    assert any("did not include the statement" in note for note in result.notes)
    assert apply_guardrail(question, result, statements=ALL) == result


def test_the_weight_in_the_question_never_picks_a_percentage_statement() -> None:
    question = "How many grams of IVIG should a 70 kg patient with warm AIHA get?"
    result = apply_guardrail(question, draft(question, [RTX]), statements=ALL)
    added = result.quotes[1:]
    assert [quote.text for quote in added] == [IVIG.text]


def test_misspelt_drug_finds_its_quoted_dose_in_the_plain_chain(assistant) -> None:
    answer = assistant.ask("rituxamab dose")
    assert FlagCode.DOSE_NOT_SPECIFIED not in [flag.code for flag in answer.guardrail.flags]


# --- doses bound to another context ---------------------------------------------------------------------

CONTEXT_QUESTIONS = [
    ("What exact dose of IVIG should be used together with plasma exchange?", "plasma exchange"),
    ("What is the IVIG dose in children?", "children"),
    ("What is the oral methylprednisolone dose?", "oral use"),
]


@pytest.mark.parametrize(("question", "context"), CONTEXT_QUESTIONS, ids=[c[0] for c in CONTEXT_QUESTIONS])
def test_a_dose_stated_for_another_context_is_flagged(with_library: Assistant, question: str, context: str) -> None:
    answer = with_library.ask(question)
    flag = next(f for f in answer.guardrail.flags if f.code is FlagCode.DOSE_OTHER_CONTEXT)
    assert answer.guardrail.status is GuardrailStatus.WARN
    assert context in flag.message and "another context" in flag.message
    assert flag.message in answer.notes
    assert not re.search(r"\d+\s*(?:g|mg)\b", flag.message), "the note states no number of its own"


@pytest.mark.parametrize(
    ("question", "context"),
    [
        ("IVIG dose in pregnancy?", "pregnancy"),
        ("IVIG dose for a child with AIHA?", "children"),
        ("IVIG dose in dialysis patients?", "kidney impairment"),
        ("IVIG dose combined with rituximab?", "with rituximab"),
    ],
)
def test_population_and_combination_contexts_on_the_guideline_statement(question: str, context: str) -> None:
    result = apply_guardrail(question, draft(question, [IVIG]))
    flag = next(f for f in result.guardrail.flags if f.code is FlagCode.DOSE_OTHER_CONTEXT)
    assert context in flag.message


def test_plasma_exchange_note_points_to_the_numberless_statement() -> None:
    question = "What exact dose of IVIG should be used together with plasma exchange?"
    result = apply_guardrail(question, draft(question, [IVIG, LOW_IVIG]))
    flag = next(f for f in result.guardrail.flags if f.code is FlagCode.DOSE_OTHER_CONTEXT)
    assert "Severe Refractory Cases [6]) gives no number" in flag.message


@pytest.mark.parametrize(
    "question",
    [
        "What is the IVIG dose?",
        "IVIG dose for warm AIHA?",
        "How much IVIG for a patient with warm AIHA?",
        "IVIG IV dose?",
    ],
)
def test_no_context_flag_when_the_question_names_no_other_context(question: str) -> None:
    result = apply_guardrail(question, draft(question, [IVIG]))
    assert FlagCode.DOSE_OTHER_CONTEXT not in [flag.code for flag in result.guardrail.flags]
