"""A dose stated for another context is never multiplied out for the patient asked about."""

from __future__ import annotations

import pytest

from assistant import Assistant
from assistant.answer.schema import FlagCode


@pytest.mark.parametrize(
    "question",
    [
        "How much IVIG for a 20 kg child with warm AIHA?",
        "How much IVIG for a 70 kg patient with warm AIHA in children?",
    ],
)
def test_no_amount_is_calculated_from_a_dose_for_another_context(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    codes = [flag.code for flag in answer.guardrail.flags]
    assert FlagCode.DOSE_OTHER_CONTEXT in codes and FlagCode.CALCULATION not in codes, answer.guardrail
    assert FlagCode.CALCULATION_REFUSED in codes
    assert not any(" g (" in note or "= 20 g" in note or "= 70 g" in note for note in answer.notes)


def test_the_same_question_for_the_guidelines_own_patients_is_calculated(assistant: Assistant) -> None:
    answer = assistant.ask("How much IVIG for a 70 kg patient with warm AIHA?")
    assert FlagCode.CALCULATION in [flag.code for flag in answer.guardrail.flags]


def test_a_heading_that_states_an_amount_is_left_out_of_the_doses_differ_message() -> None:
    """A PDF line read as a heading ("... azithromycin 1 g/week for 2 weeks") must not put a number in our words."""
    from assistant.answer.schema import Quote
    from assistant.guardrails.asked import Asked
    from assistant.guardrails.checks import QuotedDose
    from assistant.guardrails.context import check_doses_differ
    from assistant.guardrails.doses import parse_doses

    def quoted(text: str, section: str, page: int) -> list[QuotedDose]:
        quote = Quote(text=text, citations=["1"], source="pid.pdf", title="PID guideline", section=section,
                      start=0, end=len(text), score=0.5, chunk_id=f"c{page}", page=page)
        return [QuotedDose(dose, quote) for dose in parse_doses(text)]

    heading = "Alternative Regimens intramuscular ceftriaxone 1g immediately, followed by azithromycin 1 g/week for 2 weeks"
    doses = quoted("i.v. gentamicin 2mg/kg loading dose", heading, 12) + quoted(
        "Give gentamicin in a starting dose of 5 mg/kg.", "Neonates", 24
    )
    outcome = check_doses_differ(Asked.read("How is gentamicin dosed?"), doses)
    messages = " ".join(flag.message for flag in outcome.flags)
    assert FlagCode.DOSES_DIFFER in [flag.code for flag in outcome.flags]
    assert "1 g/week" not in messages and "PID guideline, p. 12" in messages
