"""What kind of answer a question wants: a duration, a volume, a percentage, an age.

"Within how many hours of injury can tranexamic acid be used?" is answered by the
statement that says "3 hours", not by the one that repeats "tranexamic acid" and
"injury" most often. When the question's wording asks for a quantity of a known
kind and none of the statements chosen states one, the closest retrieved
statement that does is quoted first. The kinds are general English question
forms, not any guideline's wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
        re.compile(r"\b(how much (?:fluid|water|should i (?:be )?drink\w*)|volume|how many (?:litres|liters|ml))\b", re.IGNORECASE),
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
