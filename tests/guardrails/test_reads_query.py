"""The guardrail reads the question's Query once per answer, and a Query or its text give the same answer."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from guideline_quotes import ALL, IVIG, MP, PRED, RTX, draft

from assistant.answer import Answer
from assistant.guardrails import apply_guardrail, asked, calculator, doses
from assistant.retrieval.query import build_query

QUESTIONS = [
    "What IVIG dose for a 70 kg adult with warm AIHA?",
    "methylprednisolone 1g IV daily x 30",
    "rituxamab dose for a child of 20 kg and 110 cm?",
    "What dose of IVIG with plasma exchange in pregnancy?",
    "prednisone 1 mg/kg/day for life",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_query_and_its_text_give_the_same_answer(question: str) -> None:
    quotes = [IVIG, MP, PRED, RTX]
    from_text = apply_guardrail(question, draft(question, quotes), statements=ALL)
    from_query = apply_guardrail(build_query(question), draft(question, quotes), statements=ALL)
    assert from_query == from_text


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_question_is_read_once(question: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drugs, weight and the question's own doses are parsed once per answer, not once per check."""
    calls: Counter[str] = Counter()

    def counted(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(text: str, *args: Any, **kwargs: Any) -> Any:
            if text == question:
                calls[name] += 1
            return function(text, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(asked, "find_drugs", counted("drugs", asked.find_drugs))
    monkeypatch.setattr(asked, "find_measures", counted("measures", calculator.find_measures))
    monkeypatch.setattr(asked, "parse_question_doses", counted("doses", doses.parse_question_doses))
    monkeypatch.setattr(asked, "asks_for_dose", counted("dose intent", asked.asks_for_dose))
    result: Answer = apply_guardrail(build_query(question), draft(question, [IVIG, MP, PRED, RTX]), statements=ALL)
    assert result.guardrail.flags or result.doses
    assert calls and max(calls.values()) == 1, calls
