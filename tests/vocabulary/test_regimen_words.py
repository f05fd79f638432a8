"""One regimen in words: the calculator, the regimen comparison and the canonical dose text say it alike."""

from __future__ import annotations

import pytest

from assistant.guardrails.calculator import regimen_text
from assistant.guardrails.doses import format_dose, parse_doses
from assistant.guardrails.regimen import described
from assistant.vocabulary.schedules import course_words, regimen_words

PHRASES = [
    ("single dose", "as a single dose"),
    ("repeat if necessary", "repeated if necessary"),
    ("repeat", "repeated"),
    ("repeat 3 times", "repeated 3 times"),
    ("continuous infusion", "as a continuous infusion"),
    ("indefinitely", "indefinitely"),
    ("taper", "tapered"),
    ("taper over 6-12 months", "tapered over 6-12 months"),
    ("over 2 days", "over 2 days"),
    ("in 2 divided doses", "in 2 divided doses"),
    ("as needed", "as needed"),
    ("3 days", "for 3 days"),
    ("4 doses", "for 4 doses"),
]


@pytest.mark.parametrize(("phrase", "words"), PHRASES)
def test_course_words(phrase: str, words: str) -> None:
    assert course_words(phrase) == words


def test_regimen_words_joins_route_schedule_and_course() -> None:
    assert regimen_words("weekly", ("4 doses",), route="IV") == "IV, weekly, for 4 doses"
    assert regimen_words(None, ()) == ""


DOSES = [
    "IVIG 1 g/kg IV as a single dose, which may be repeated if necessary",
    "rituximab 375 mg/m2 IV weekly for 4 doses",
    "prednisolone 1 mg/kg daily, then tapered over 6-12 months",
    "methylprednisolone 1 g IV daily for 3 days",
    "heparin 18 units/kg/hour as a continuous infusion",
]


@pytest.mark.parametrize("text", DOSES)
def test_every_message_writes_a_regimen_the_same_way(text: str) -> None:
    [dose] = parse_doses(text)
    expected = regimen_words(dose.schedule, dose.course, route=dose.route)
    assert regimen_text(dose) == expected
    assert described(dose) == (regimen_words(dose.schedule, dose.course) or "no course length")
    for phrase in dose.course:
        assert course_words(phrase) in format_dose(dose)


@pytest.mark.parametrize("text", DOSES)
def test_the_canonical_text_reads_back_as_the_same_dose(text: str) -> None:
    [dose] = parse_doses(text)
    [again] = parse_doses(format_dose(dose))
    assert again.semantics() == dose.semantics()
