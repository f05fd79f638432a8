"""What one answer shows on a ward: true labels, doses as rows, short alerts, a readable follow-up, exports.

Table-driven over crafted answers in the answer schema (the structured values the
chain returns); each case is one way the page misled a clinician in issue 24.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.answer.schema import Answer, DoseInfo, Flag, FlagCode, Guardrail, Quote, Reference, Severity
from assistant.present import (
    CLOSEST_LABEL,
    DIRECT_LABEL,
    POLICY,
    ExportHeader,
    alert_text,
    answer_view,
    conversation_markdown,
    follow_up_line,
    index_build_id,
    short_section,
)
from assistant.present.view import calculation_result
from ui import export, render

STATEMENT = "The typical IVIG dosing when used is 1 g/kg as a single dose, which may be repeated if necessary."
DOSE_QUOTE = Quote(
    text=STATEMENT, citations=["1"], source="ivig-in-aiha.txt", title="IVIG in Autoimmune Hemolytic Anemia",
    section="First-Line Treatment Approach", start=100, end=100 + len(STATEMENT), chunk_id="a", direct=True,
)  # fmt: skip
DIAGNOSIS = "The diagnosis of warm AIHA is made with a positive direct antiglobulin test."
SURVEY = "In a survey of 200 clinicians, 60% of respondents used clonidine first."
TREATMENT = "Corticosteroids remain the cornerstone of initial therapy for warm AIHA."
IVIG = DoseInfo(
    text="1 g/kg as a single dose", drug="IVIG", amount=1.0, unit="g", basis="kg", schedule="single dose",
    citations=["1"], source="ivig-in-aiha.txt", start=137, end=160,
)  # fmt: skip


def answer(question: str, text: str = STATEMENT, **update: object) -> Answer:
    quote = DOSE_QUOTE.model_copy(update={"text": text, "end": DOSE_QUOTE.start + len(text)})
    return Answer(
        question=question, abstained=False, quotes=[quote], lead="The guideline says (quoted verbatim):"
    ).model_copy(update=update)


@pytest.mark.parametrize(
    ("question", "statement", "label"),
    [
        ("What IVIG dose is used in warm AIHA?", STATEMENT, DIRECT_LABEL),
        ("What IVIG dose is used in warm AIHA?", TREATMENT, CLOSEST_LABEL),  # no amount for a dose question
        ("What is the treatment for warm AIHA?", TREATMENT, DIRECT_LABEL),
        ("What is the treatment for warm AIHA?", DIAGNOSIS, CLOSEST_LABEL),  # a diagnosis is not a treatment
        ("What medication is used for tics?", SURVEY, CLOSEST_LABEL),  # a survey's finding is not advice
        ("How long is prednisone tapered?", "Prednisone is tapered slowly over 6-12 months.", DIRECT_LABEL),
        ("How long is prednisone tapered?", TREATMENT, CLOSEST_LABEL),
        ("Is IVIG used in warm AIHA?", DIAGNOSIS, DIRECT_LABEL),  # no answer type asked: the best statement
    ],
)
def test_direct_answer_only_when_the_statement_gives_the_answer_type_asked(
    question: str, statement: str, label: str
) -> None:
    view = answer_view(answer(question, statement))
    assert view.direct_label == label
    assert f"**{label}**" in conversation_markdown([answer(question, statement)])


@pytest.mark.parametrize(
    ("dose", "shown"),
    [
        (IVIG, True),
        (
            IVIG.model_copy(
                update={
                    "drug": None,
                    "text": "2000 ml/hour",
                    "amount": 2000.0,
                    "unit": "mL",
                    "per": "hour",
                    "basis": None,
                }
            ),
            False,
        ),
        (IVIG.model_copy(update={"unit": None}), False),  # a number without a dose unit (a threshold, a lab value)
        (IVIG.model_copy(update={"amount": None}), False),
        (IVIG.model_copy(update={"drug": None}), False),  # no drug in the statement, its lead-in or its section
    ],
    ids=["dose", "pump-rate", "no-unit", "no-amount", "no-drug"],
)
def test_a_dose_row_needs_a_drug_and_an_amount_in_a_dose_unit(dose: DoseInfo, shown: bool) -> None:
    view = answer_view(answer("What IVIG dose?", doses=[dose]))
    assert len(view.dose_rows) == (1 if shown else 0)
    assert all(row[0] not in ("?", "") for row in view.dose_rows)


def test_a_dose_with_no_drug_takes_the_drug_its_statement_is_listed_under() -> None:
    bullet = DOSE_QUOTE.model_copy(update={"context": "Give rituximab as follows:", "kind": "bullet"})
    dose = IVIG.model_copy(update={"drug": None, "text": "375 mg/m2 weekly", "unit": "mg"})
    view = answer_view(Answer(question="rituximab dose?", abstained=False, quotes=[bullet], doses=[dose]))
    assert view.dose_rows[0][0].lower() == "rituximab"


@pytest.mark.parametrize(
    ("doses", "sources", "table"),
    [
        ([IVIG], ["a.txt"], False),
        ([IVIG, IVIG.model_copy(update={"text": "2 g/kg"})], ["a.txt"], True),
        ([IVIG], ["a.txt", "b.txt"], True),
    ],
    ids=["one-dose", "two-doses", "two-guidelines"],
)
def test_the_dose_table_only_when_there_are_several_doses_or_guidelines(doses, sources, table) -> None:
    quotes = [
        DOSE_QUOTE.model_copy(update={"source": source, "chunk_id": source, "direct": n == 0})
        for n, source in enumerate(sources)
    ]
    doses = [dose.model_copy(update={"source": sources[0]}) for dose in doses]
    assert (
        answer_view(Answer(question="IVIG dose?", abstained=False, quotes=quotes, doses=doses)).show_dose_table is table
    )


def test_one_dose_lead_line_names_drug_dose_citation_and_guideline_and_not_for_another_context() -> None:
    view = answer_view(answer("What IVIG dose?", doses=[IVIG]))
    assert view.dose_lead == "IVIG 1 g/kg as a single dose — IVIG in Autoimmune Hemolytic Anemia [1]"
    other = Flag(code=FlagCode.DOSE_OTHER_CONTEXT, severity=Severity.WARN, message="Stated for adults, not children.")
    flagged = answer("What IVIG dose in children?", doses=[IVIG], guardrail=Guardrail(flags=[other]))
    assert answer_view(flagged).dose_lead is None, "a dose for another context is never summed up as the dose"


MISMATCH = (
    "The question states IVIG 2 g/kg daily for 5 days, but the guideline (ivig-in-aiha.txt, First-Line Treatment "
    f"Approach [1]) says: “{STATEMENT}” The amount differs."
)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            MISMATCH,
            "The question states IVIG 2 g/kg daily for 5 days, but the guideline (IVIG in Autoimmune Hemolytic "
            "Anemia, First-Line Treatment Approach [1]) says (quoted below). The amount differs.",
        ),
        ("A short “1 g/kg” stays.", "A short “1 g/kg” stays."),
        (
            "It says “something the answer does not quote at all, so it stays”.",
            "It says “something the answer does not quote at all, so it stays”.",
        ),
    ],
    ids=["requote-and-file-name", "short-quotation", "other-quotation"],
)
def test_an_alert_names_the_guideline_title_and_never_requotes_the_statement(message: str, expected: str) -> None:
    assert alert_text(message, [DOSE_QUOTE]) == expected


def test_every_flag_title_is_our_words_not_its_code() -> None:
    for code, style in POLICY.items():
        assert style.title.lower() != code.value.replace("_", " "), code


@pytest.mark.parametrize(
    ("message", "result"),
    [
        ("Calculated (…): 1 g/kg × 70 kg = 70 g (as a single dose). Check this arithmetic.", "70 g"),
        ("375 mg/m² × 1.8 m² = 675 mg weekly.", "675 mg"),
        ("No arithmetic here.", None),
    ],
)
def test_the_calculation_result_is_read_out_for_its_own_line(message: str, result: str | None) -> None:
    assert calculation_result(message) == result


@pytest.mark.parametrize(
    ("question", "asked_as", "shown"),
    [
        ("and in children?", "How much IVIG for a 70 kg patient: and in children?",
         "IVIG dose in children (follow-up to: How much IVIG for a 70 kg patient)"),
        ("what about rituximab?", "warm AIHA second line: what about rituximab?",
         "Rituximab (follow-up to: warm AIHA second line)"),
        ("What is the dose?", None, None),
    ],
)  # fmt: skip
def test_a_follow_up_reads_as_what_was_asked_then_what_it_follows(
    question: str, asked_as: str | None, shown: str | None
) -> None:
    assert follow_up_line(question, asked_as) == shown


@pytest.mark.parametrize(
    ("section", "shown"),
    [
        ("First-Line Treatment Approach", "First-Line Treatment Approach"),
        ("Offer a short course of oral corticosteroids to adults with moderate or severe disease in primary care",
         "Offer a short course of oral corticosteroids to adults with…"),
        ("Give azithromycin 1 g/week for 2 weeks", None),
    ],
)  # fmt: skip
def test_section_labels_are_short(section: str, shown: str | None) -> None:
    assert short_section(section) == shown


def test_export_starts_with_its_header_and_resolves_every_cited_label() -> None:
    cited = DOSE_QUOTE.model_copy(
        update={"citations": ["1", "2"], "references": [Reference(label="1", text="Smith J. IVIG.")]}
    )
    reply = Answer(question="What IVIG dose?", abstained=False, quotes=[cited], citations=["1", "2"])
    head = ExportHeader("2026-12-07 01:00 UTC", "0.1.0", "/srv/guidelines", index_build_id("2026-12-06", {"a": "x"}),
                        (("IVIG in Autoimmune Hemolytic Anemia", "2023"),))  # fmt: skip
    text = conversation_markdown([reply], header=head)
    top = text.split("\n\n")[:2]
    assert top[0] == "# Guideline assistant conversation"
    for part in ("Exported: 2026-12-07 01:00 UTC", "App version: 0.1.0", "Library folder: /srv/guidelines",
                 "Index build: 2026-12-06 · ", "IVIG in Autoimmune Hemolytic Anemia (2023)"):  # fmt: skip
        assert part in top[1]
    assert "- [1] Smith J. IVIG. — IVIG in Autoimmune Hemolytic Anemia" in text
    assert "- [2] (no entry in the guideline's reference list)" in text


def test_the_page_export_header_and_json_say_what_they_were_answered_from() -> None:
    class Document:
        title, source, year = "IVIG in AIHA", "ivig.txt", None

    head = export.header("/lib", None, [Document()], now=datetime(2026, 12, 7, 1, 0, tzinfo=UTC))
    assert head.exported_at == "2026-12-07 01:00 UTC" and head.guidelines == (("IVIG in AIHA", "date not stated"),)
    assert export.conversation_json([], head).startswith('{\n  "header": {\n    "exported_at": "2026-12-07 01:00 UTC"')
    assert export.conversation_markdown([], head).startswith("# Guideline assistant conversation\n\n- Exported:")


@pytest.mark.parametrize(("labels", "shown"), [(["1", "3"], "¹ ³"), (["12"], "¹²"), (["a"], "[a]")])
def test_labels_without_a_reference_entry_are_plain_superscripts(labels: list[str], shown: str) -> None:
    assert render.superscript_labels(labels) == shown
