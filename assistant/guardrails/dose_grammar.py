"""Dose grammar: the token patterns and tables that ``parse_doses`` reads dose text with.

The grammar is a set of named regular expressions applied in two steps: a *core*
(``amount [unit] [- amount] unit [/basis] [/time]``) anchors every dose, then a
*tail* of modifiers (route, schedule, course, "max", "total") is read left to
right until a word is not one of them. This module holds the patterns and the
modifiers that fill a dose's fields; the words they match and their canonical
names (units, routes, frequencies) are the vocabulary's tables
(``assistant.vocabulary.units``, ``.routes``, ``.schedules``); the parsing loop is
in ``assistant.guardrails.doses``.

Text is first normalized character for character (``×``→``x``, ``²``→``2``,
``µ``→``u``, dashes→``-``), so every offset in the normalized text is also an
offset in the original and ``Dose.start``/``Dose.end`` point into the caller's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from assistant.vocabulary.routes import BY_CODE, PUSH, named_alternation
from assistant.vocabulary.routes import alternation as route_alternation
from assistant.vocabulary.schedules import PER, PER_NAMES, SCHEDULES, WORD_NUMBERS, plural
from assistant.vocabulary.units import MASS_IN_G, PER_BODY_ONLY, UNIT, UNIT_NAMES
from assistant.vocabulary.units import alternation as unit_alternation

__all__ = ["MASS_IN_G", "PER_BODY_ONLY", "PER_NAMES", "UNIT_NAMES"]  # read by the parser with the patterns below

# --- normalization ------------------------------------------------------------

# One character in, one character out: offsets must survive normalization.
_CHAR_MAP = str.maketrans(
    {
        "×": "x",
        "✕": "x",
        "⨯": "x",
        "\u00b5": "u",  # micro sign
        "\u03bc": "u",  # Greek mu
        "²": "2",
        "³": "3",
        "¹": "1",
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u2044": "/",
        "\u2215": "/",
    }
)


def normalize(text: str) -> str:
    """The text pint and the grammar see; same length as ``text`` so offsets carry over."""
    return text.translate(_CHAR_MAP)


# --- the grammar ----------------------------------------------------------------

# Thousands form first ("1,000"), then a plain or decimal-comma number, then a
# naked decimal (".5"). A leading zero never starts the thousands form: "0,500" is 0.5.
# Thousands may be separated by a comma, a space (any width: normalized to " "), or an apostrophe ("10'000"),
# one separator kind per number.
THOUSANDS = r"[1-9]\d{0,2}(?:(?:,\d{3})+|(?: \d{3})+|(?:'\d{3})+|(?:\u2019\d{3})+)(?!\d)(?:\.\d+)?"
_NUM = rf"(?:{THOUSANDS}|\d+(?:[.,]\d+)?|[.,]\d+)"
_BODY = r"kg|kilograms?|m2|m\^2|sq\.?\s?m|square\s+met(?:er|re)s?"
# "1 kg/kg": a unit that is a dose only per body weight or surface (an impossible amount, read to be blocked).
_UNIT = rf"(?:{UNIT}|(?:{unit_alternation(PER_BODY_ONLY)})(?=\s*(?:/|\s+per\s+)\s*(?:{_BODY})))"
_BASIS = rf"(?:\s*/\s*|\s+per\s+)(?P<basis>{_BODY})(?![a-z0-9^])(?:\s+body\s+weight)?"
# The basis written after the first amount of a range ("3 mg/kg to 6 mg/kg"): it must equal the second's.
_BASIS1 = rf"(?:\s*/\s*|\s+per\s+)(?P<basis1>{_BODY})(?![a-z0-9^])"
_PER = (
    rf"(?:(?:\s*/\s*|\s+per\s+)(?P<per>{PER})"
    r"|\s+an?\s+(?P<per_a>day|week|hour))(?![a-z0-9])"
)
CORE = re.compile(
    rf"(?<![\w.,])(?P<low>{_NUM})(?:(?:\s*(?P<unit1>{_UNIT})(?:{_BASIS1})?)?(?:\s*-\s*|\s+to\s+)(?P<high>{_NUM}))?"
    rf"\s*(?P<unit>{_UNIT})(?:{_BASIS})?(?:{_PER})?"
    # "7 g/dL", "5 mg/mL": a concentration or a laboratory value, not a dose.
    r"(?!\s*/\s*(?:d?l|ml|ul)(?![a-z]))",
    re.IGNORECASE,
)
CEILING_BEFORE = re.compile(
    r"(?:max(?:imum)?\.?(?:\s+(?:daily\s+|single\s+|total\s+)?dose)?(?:\s+of)?|(?:should\s+|must\s+|do\s+)?not\s+(?:to\s+)?exceed(?:ing)?"
    r"|no\s+more\s+than|up\s+to|≤|<=)\s*:?\s*$",
    re.IGNORECASE,
)
TOTAL_BEFORE = re.compile(r"total(?:\s+(?:daily\s+)?dose)?(?:\s+of)?\s*:?\s*$", re.IGNORECASE)

SEPARATOR = re.compile(
    r"[\s,;(]*(?:(?:(?:is|are|be|should\s+be|can\s+be|to\s+be)\s+)?(?:given|administered|infused)\s+|and\s+)?",
    re.IGNORECASE,
)
_COUNT = r"(\d+(?:\s*(?:-|to)\s*\d+)?)"
# "x 2" is a count of doses unless a unit (a dose unit, a weight or a length) follows the number.
_NOT_A_UNIT_AFTER = rf"(?!\s*(?:[.,]\d|kg|kilo|lbs?|pounds?|cm|m2|{UNIT}))"

SMALLEST = Decimal("1e-9")
LARGEST = Decimal("1e9")


# --- tail modifiers -------------------------------------------------------------------

_Apply = Callable[[dict, re.Match[str]], bool]


def _set(field: str, value: Callable[[re.Match[str]], str]) -> _Apply:
    """A modifier that fills one field once; a second value for it ends the tail."""

    def apply(fields: dict, match: re.Match[str]) -> bool:
        if fields.get(field) is not None:
            return False
        fields[field] = value(match)
        return True

    return apply


def _add_course(value: Callable[[re.Match[str]], str]) -> _Apply:
    def apply(fields: dict, match: re.Match[str]) -> bool:
        phrase = value(match)
        if phrase in fields["course"]:
            return False
        fields["course"] = (*fields["course"], phrase)
        return True

    return apply


def _mark_ceiling(fields: dict, match: re.Match[str]) -> bool:
    if fields["ceiling"]:
        return False
    fields["ceiling"] = True
    return True


def _continuous(fields: dict, match: re.Match[str]) -> bool:
    """ "as a continuous infusion": a regimen of its own (and an IV one), whatever schedule is also written."""
    if "continuous infusion" in fields["course"]:
        return False
    fields["course"] = (*fields["course"], "continuous infusion")
    fields["route"] = fields["route"] or "IV"
    return True


def _count(text: str) -> str:
    return re.sub(r"\s*(?:-|to)\s*", "-", text.strip())


def _course_count(match: re.Match[str]) -> str:
    count = _count(match.group(1))
    unit = re.sub(r"^yrs?$", "years", (match.group(2) or "doses").lower())
    return f"{count} {plural(unit, count)}".replace("times", "doses").replace("time", "dose")


_ABRUPT = re.compile(
    rf"(?:(?:and|then)\s+)?(?:(?:stopped|stop|discontinued|discontinue|withdrawn|ceased)"
    rf"(?:\s+abruptly|(?=\s+(?:after|at)\s+\d))"
    rf"|abrupt(?:ly)?\s+(?:stop(?:ped)?|discontinu\w+|withdrawal|cessation)|without\s+(?:a\s+)?taper(?:ing)?)"
    rf"(?:\s+(?:after|at)\s+{_COUNT}\s+(days?|weeks?|months?))?(?![a-z])",
    re.I,
)


def _abrupt_stop(fields: dict, match: re.Match[str]) -> bool:
    """ "stopped abruptly after 3 days": no taper (a course of its own), and a course length when written."""
    if "abrupt stop" in fields["course"]:
        return False
    added = ["abrupt stop"]
    if match.group(1):
        count = _count(match.group(1))
        added.append(f"{count} {plural(match.group(2), count)}")
    fields["course"] = (*fields["course"], *[p for p in added if p not in fields["course"]])
    return True


def _skip(fields: dict, match: re.Match[str]) -> bool:
    """Words read past without a meaning of their own (only where a modifier follows them)."""
    return True


_ROUTE = re.compile(
    rf"(?:(?:by|via)\s+(?:an?\s+)?)?(?:{named_alternation()})(?![a-z])(?:\s+(?:infusion|bolus|push|injection))?",
    re.IGNORECASE,
)


_IV = route_alternation(BY_CODE["IV"])


def _route(match: re.Match[str]) -> str:
    code = match.lastgroup or "PO"
    if code == "IV" and re.search(r"(?:push|bolus)$", match.group(0), re.I):
        return PUSH
    return code


MODIFIERS: list[tuple[re.Pattern[str], _Apply]] = [
    (_ROUTE, _set("route", _route)),
    *[(pattern, _set("schedule", value)) for pattern, value in SCHEDULES],
    (
        re.compile(
            rf"x\s?(\d+)(?:\s*(doses?|days?|weeks?|months?|years?|cycles?|times))?(?![\w.,]){_NOT_A_UNIT_AFTER}", re.I
        ),
        _add_course(_course_count),
    ),
    (
        re.compile(
            rf"(?:for|on)\s+(?:up\s+to\s+|another\s+|a\s+further\s+)?{_COUNT}\s+(?:consecutive\s+|more\s+)?"
            r"(doses?|days?|weeks?|months?|years?|yrs?|cycles?|hours?)(?![a-z])",
            re.I,
        ),
        _add_course(_course_count),
    ),
    (
        re.compile(r"(?:as\s+|for\s+)?an?\s+(\d+)[- ](day|week|month)\s+course(?![a-z])", re.I),
        _add_course(lambda m: f"{m.group(1)} {plural(m.group(2), m.group(1))}"),
    ),
    # "1 g/kg, 5 doses": a bare count of doses or infusions (never "in 2 doses", a divided daily amount).
    (re.compile(r"(\d+)\s+(?:separate\s+)?(doses?|infusions?)(?![a-z])", re.I), _add_course(_course_count)),
    (
        re.compile(r"for\s+(?:an?|one)\s+(day|week|month|year)(?![a-z])", re.I),
        _add_course(lambda m: f"1 {m.group(1).lower()}"),
    ),
    (
        re.compile(rf"(?:divided\s+)?over\s+{_COUNT}\s+(days?|weeks?|months?|years?)(?![a-z])", re.I),
        _add_course(lambda m: f"over {_count(m.group(1))} {plural(m.group(2), _count(m.group(1)))}"),
    ),
    (
        re.compile(r"(?:as\s+)?(?:an?\s+)?(?:single|one-time|one\s+time|one|1)\s+(?:dose|infusion)(?![a-z])", re.I),
        _add_course(lambda m: "single dose"),
    ),
    (
        re.compile(
            r"(?:which\s+)?(?:(?:may|can|could|should)\s+be\s+)?repeated\s+(\d+)\s+times(?![a-z])",
            re.I,
        ),
        _add_course(lambda m: f"repeat {m.group(1)} times"),
    ),
    (
        re.compile(rf"(?:as\s+an?\s+|by\s+)?continuous(?:\s+(?:{_IV}))?\s+infusion(?![a-z])", re.I),
        _continuous,
    ),
    (
        re.compile(r"(?:for\s+life|lifelong|life-long|indefinitely|long[- ]term)(?![a-z])", re.I),
        _add_course(lambda m: "indefinitely"),
    ),
    (
        re.compile(
            r"(?:which\s+)?(?:(?:may|can|could|should)\s+be\s+)?repeated"
            r"(?P<cond>\s+(?:if|when|as)\s+(?:clinically\s+)?(?:necessary|needed|required|indicated))?(?![a-z])",
            re.I,
        ),
        _add_course(lambda m: "repeat if necessary" if m.group("cond") else "repeat"),
    ),
    (
        re.compile(
            rf"(?:then\s+)?tapered?(?:\s+(?:slowly|gradually))?(?:\s+over\s+{_COUNT}\s+(hours?|days?|weeks?|months?|years?))?"
            r"(?![a-z])",
            re.I,
        ),
        _add_course(
            lambda m: (
                f"taper over {_count(m.group(1))} {plural(m.group(2), _count(m.group(1)))}" if m.group(1) else "taper"
            )
        ),
    ),
    (
        re.compile(r"in\s+(\d+|two|three|four)\s+divided\s+doses(?![a-z])", re.I),
        _add_course(lambda m: f"in {WORD_NUMBERS.get(m.group(1).lower(), m.group(1))} divided doses"),
    ),
    (re.compile(r"(?:as\s+needed|p\.?r\.?n\.?|when\s+required)(?![a-z])", re.I), _add_course(lambda m: "as needed")),
    (_ABRUPT, _abrupt_stop),
    (re.compile(r"(?:in\s+)?total(?![a-z])", re.I), _set("per", lambda m: "course")),
    (re.compile(r"max(?:imum)?(?![a-z])(?!\.?\s*(?:dose\s*)?(?:of\s*)?[\d.,(])", re.I), _mark_ceiling),
]
# Modifiers a question may write anywhere later in the clause: never "total" or "max", which only
# qualify the amount they stand next to.
LOOSE_MODIFIERS = MODIFIERS[:-2]
# Read only right after a dose (a question's "how many per day?" states no dose per day).
MODIFIERS[-2:-2] = [
    # "3 mg/kg to 6 mg/kg of elemental iron per day": the words naming the drug do not end the dose.
    (re.compile(r"of\s+(?:[a-z-]+\s+){1,3}?(?=(?:per|a|an)\s+(?:day|week)\b|/\s*(?:day|d)\b|daily\b)", re.I), _skip),
    (
        re.compile(r"(?:(?:per|an?)\s+(day|week)|/\s*(day|week|d))(?![a-z])", re.I),
        _set("per", lambda m: {"d": "day"}.get((m.group(1) or m.group(2)).lower(), (m.group(1) or m.group(2)).lower())),
    ),
]
