"""What a question asks for: one definition of each predicate, read by retrieval, answer and guardrail."""

from __future__ import annotations

import pytest

from assistant.retrieval.query import build_query
from assistant.vocabulary.intent import asks_for_dose, mentions_dosing, wanted_kind

CASES = [
    # question, mentions dosing (broad), asks for a dose (narrow), kind of quantity wanted
    ("What is the IVIG dose for warm AIHA?", True, True, None),
    ("How many micrograms of adrenaline?", True, True, None),
    ("How many mcg of adrenaline?", True, True, None),
    ("How much rituximab should I give?", True, True, None),
    ("What regimen of prednisolone is used?", True, True, None),
    ("Calculate the mg/kg dose for a child", True, True, None),
    ("How often is rituximab given?", True, False, "duration"),
    ("Patient weighs 70 kg, prednisolone?", True, False, None),
    ("Is IVIG used in warm AIHA?", False, False, None),
    ("How long should prednisolone be continued?", False, False, "duration"),
    ("How much fluid should I drink?", True, True, "volume"),
    ("What percentage of patients respond?", False, False, "percentage"),
    ("At what age can children have the vaccine?", False, False, "age"),
]


@pytest.mark.parametrize(("question", "broad", "narrow", "kind"), CASES)
def test_intent(question: str, broad: bool, narrow: bool, kind: str | None) -> None:
    assert mentions_dosing(question) is broad
    assert asks_for_dose(question) is narrow
    wanted = wanted_kind(question)
    assert (wanted.name if wanted else None) == kind


@pytest.mark.parametrize(("question", "broad", "narrow", "kind"), CASES)
def test_the_query_reads_the_same_predicate(question: str, broad: bool, narrow: bool, kind: str | None) -> None:
    assert build_query(question).dose_intent is broad


@pytest.mark.parametrize(("question", "broad", "narrow", "kind"), CASES)
def test_asking_for_a_dose_is_always_mentioning_dosing(
    question: str, broad: bool, narrow: bool, kind: str | None
) -> None:
    assert not narrow or broad
