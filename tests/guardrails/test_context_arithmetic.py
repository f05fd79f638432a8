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
