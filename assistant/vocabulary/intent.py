"""What a question asks for: a dose at all, a dose to state or calculate, or a quantity of a known kind.

Three predicates, each defined once and read by every stage:

- :func:`mentions_dosing` (broad): the question is about dosing at all (an amount,
  a schedule, a unit or a patient weight); retrieval and selection put statements
  that state an amount first.
- :func:`asks_for_dose` (narrow): the question asks for a dose or an amount; the
  guardrail then says "no dose given" or calculates.
- :func:`wanted_kind`: the question asks for a duration, a volume, a percentage or
  an age, so the statement that states one is quoted first. The kinds are general
  English question forms, not any guideline's wording.

The unit words here are the spoken subset of :mod:`assistant.vocabulary.units`
(a bare "g" would match "e.g."; "ml" asks for a volume, not a dose).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOSE_INTENT = re.compile(
    r"\b(dose|doses|dosing|dosage|dosed|how much|how many|grams?|milligrams?|micrograms?|units?|mg|mcg|g/kg|"
    r"mg/kg|mg/m2|regimen|schedule|how often|frequency|infusion rate|\d+(?:\.\d+)?\s?kg)\b",
    re.IGNORECASE,
)
_ASKS_DOSE = re.compile(
    r"\b(?:dose|doses|dosing|dosage|dosed|how\s+much|how\s+many\s+(?:mg|milligrams?|grams?|g|units|mcg|micrograms?|ml)"
    r"|what\s+amount|regimen|calculate|mg/kg)\b",
    re.IGNORECASE,
)


def mentions_dosing(question: str) -> bool:
    """Whether the question is about dosing at all: an amount, a schedule, a unit or a patient weight.

    Broader on purpose than :func:`asks_for_dose` (which decides when to say "no
    dose given" or to calculate): it only moves statements that state an amount
    ahead of the others when choosing what to quote.
    """
    return bool(_DOSE_INTENT.search(question))


def asks_for_dose(question: str) -> bool:
    """Whether the question asks for a dose or an amount (not just whether a drug is used)."""
    return bool(_ASKS_DOSE.search(question))


_NUMBER = r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty)"


@dataclass(frozen=True)
class AnswerKind:
    """A question form and the pattern of the statements that answer it."""

    name: str
    asked: re.Pattern[str]
    stated: re.Pattern[str]


KINDS = (
    AnswerKind(
        "duration",
        re.compile(
            r"\b(how long|for how long|how many (?:minutes|hours|days|weeks|months|years)|within how|how soon|"
            r"how far apart|how often|how frequently|duration|until when)\b",
            re.IGNORECASE,
        ),
        re.compile(
            rf"{_NUMBER}\s*(?:[-–]|to)?\s*{_NUMBER}?\s*(?:min|mins|minutes?|h|hrs?|hours?|days?|weeks?|months?|years?)\b"
            r"|\b(?:hourly|daily|weekly|monthly|once|twice)\b",
            re.IGNORECASE,
        ),
    ),
    AnswerKind(
        "volume",
        re.compile(
            r"\b(how much (?:fluid|water|should i (?:be )?drink\w*)|volume|how many (?:litres|liters|ml))\b",
            re.IGNORECASE,
        ),
        re.compile(rf"{_NUMBER}\s*(?:ml|l|litres?|liters?|ml/kg)\b", re.IGNORECASE),
    ),
    AnswerKind(
        "percentage",
        re.compile(r"\b(what percentage|what proportion|how many percent|what share|what rate)\b", re.IGNORECASE),
        re.compile(rf"{_NUMBER}\s*%|\bper ?cent\b", re.IGNORECASE),
    ),
    AnswerKind(
        "age",
        re.compile(r"\b(at what age|from what age|how old|what age)\b", re.IGNORECASE),
        re.compile(rf"{_NUMBER}\s*(?:years?|months?|weeks?)(?: of age| old)?\b|\baged? {_NUMBER}", re.IGNORECASE),
    ),
)


def wanted_kind(question: str) -> AnswerKind | None:
    """The first kind of quantity the question asks for, if its wording asks for one."""
    return next((kind for kind in KINDS if kind.asked.search(question)), None)
