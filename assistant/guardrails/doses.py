"""Dose grammar: find dose expressions in any text and parse them into typed ``Dose`` values.

The grammar is a set of named regular expressions applied in two steps: a *core*
(``amount [unit] [- amount] unit [/basis] [/time]``) anchors every dose, then a
*tail* of modifiers (route, schedule, course, "max", "total") is read left to
right until a word is not one of them. Everything here is deterministic and
never raises on any input: the guardrail must run on whatever a model wrote.

Text is first normalized character for character (``×``→``x``, ``²``→``2``,
``µ``→``u``, dashes→``-``), so every offset in the normalized text is also an
offset in the original and ``Dose.start``/``Dose.end`` point into the caller's text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

import pint

from assistant.guardrails.units import quantity
from assistant.vocabulary.drugs import DrugMention, find_drugs

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
_NUM = r"(?:[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?|[.,]\d+)"
_UNIT = (
    r"(?:micrograms?|milligrams?|nanograms?|grams?|gm|mcg|ug|mg|ng|g|units?|iu|u|"
    r"millilit(?:er|re)s?|ml|mmol|meq)(?![a-z])"
)
_BASIS = r"(?:\s*/\s*|\s+per\s+)(?P<basis>kg|kilograms?|m2|m\^2|sq\.?\s?m|square\s+met(?:er|re)s?)(?![a-z0-9^])(?:\s+body\s+weight)?"
_PER = (
    r"(?:(?:\s*/\s*|\s+per\s+)(?P<per>days?|d|24\s?h(?:ours?|rs?)?|hours?|hrs?|h|minutes?|mins?|weeks?|wk|doses?|course)"
    r"|\s+an?\s+(?P<per_a>day|week|hour))(?![a-z0-9])"
)
_CORE = re.compile(
    rf"(?<![\w.,])(?P<low>{_NUM})(?:(?:\s*(?P<unit1>{_UNIT}))?(?:\s*-\s*|\s+to\s+)(?P<high>{_NUM}))?"
    rf"\s*(?P<unit>{_UNIT})(?:{_BASIS})?(?:{_PER})?"
    # "7 g/dL", "5 mg/mL": a concentration or a laboratory value, not a dose.
    r"(?!\s*/\s*(?:d?l|ml|ul)(?![a-z]))",
    re.IGNORECASE,
)
_CEILING_BEFORE = re.compile(
    r"(?:max(?:imum)?\.?(?:\s+(?:daily\s+|single\s+|total\s+)?dose)?(?:\s+of)?|(?:should\s+|must\s+|do\s+)?not\s+(?:to\s+)?exceed(?:ing)?"
    r"|no\s+more\s+than|up\s+to|≤|<=)\s*:?\s*$",
    re.IGNORECASE,
)
_TOTAL_BEFORE = re.compile(r"total(?:\s+(?:daily\s+)?dose)?(?:\s+of)?\s*:?\s*$", re.IGNORECASE)

_SEPARATOR = re.compile(r"[\s,;(]*(?:(?:given|administered|infused|and)\s+)?", re.IGNORECASE)
_COUNT = r"(\d+(?:\s*(?:-|to)\s*\d+)?)"
_NOT_A_UNIT_AFTER = r"(?!\s*(?:[.,]\d|kg|kilo|lbs?|pounds?|cm|m2|mg|mcg|ug|g\b|units?|iu|ml))"

_UNIT_NAMES: dict[str, str] = {
    "microgram": "mcg",
    "micrograms": "mcg",
    "mcg": "mcg",
    "ug": "mcg",
    "milligram": "mg",
    "milligrams": "mg",
    "mg": "mg",
    "nanogram": "ng",
    "nanograms": "ng",
    "ng": "ng",
    "gram": "g",
    "grams": "g",
    "gm": "g",
    "g": "g",
    "unit": "unit",
    "units": "unit",
    "u": "unit",
    "iu": "IU",
    "ml": "mL",
    "milliliter": "mL",
    "milliliters": "mL",
    "millilitre": "mL",
    "millilitres": "mL",
    "mmol": "mmol",
    "meq": "mEq",
}
_MASS_IN_G: dict[str, Decimal] = {
    "g": Decimal(1),
    "mg": Decimal("0.001"),
    "mcg": Decimal("0.000001"),
    "ng": Decimal("1e-9"),
}
_SMALLEST = Decimal("1e-9")
_LARGEST = Decimal("1e9")
_WORD_NUMBERS: dict[str, str] = {"two": "2", "three": "3", "four": "4"}
_PER_NAMES: dict[str, str] = {"d": "day", "wk": "week", "h": "hour", "hr": "hour", "min": "minute"}


@dataclass(frozen=True)
class Dose:
    """One dose expression. ``amount`` is per dose unless ``per`` says per day, per hour or per course.

    ``low``/``high`` are exact decimals (``high`` only for a range such as 0.5-1),
    ``course`` holds canonical phrases ("4 doses", "3 days", "single dose"), and
    ``ceiling`` marks a maximum ("max 2 g", "not to exceed 2 g") rather than a dose.
    """

    text: str
    start: int
    end: int
    low: Decimal
    unit: str
    high: Decimal | None = None
    basis: str | None = None
    per: str | None = None
    route: str | None = None
    schedule: str | None = None
    course: tuple[str, ...] = ()
    ceiling: bool = False
    drug: str | None = None
    drug_key: str | None = None
    risks: tuple[str, ...] = ()

    @property
    def amount_text(self) -> str:
        """The amount as text ("1", "0.5-1") with trailing zeros dropped."""
        low = format_number(self.low)
        return f"{low}-{format_number(self.high)}" if self.high is not None else low

    @property
    def unit_text(self) -> str:
        """Unit, basis and per-time as one string ("mg/m2/day")."""
        text = "units" if self.unit == "unit" else self.unit
        if self.basis:
            text += f"/{self.basis}"
        if self.per:
            text += f"/{self.per}"
        return text

    @property
    def frequency(self) -> str | None:
        """How often the amount is given, with "/day" and "daily" made equal (both mean once a day in total)."""
        per = None if self.per == "dose" else self.per
        if per == "day" and self.schedule in (None, "daily"):
            return "daily"
        if per == "week" and self.schedule in (None, "weekly"):
            return "weekly"
        if per is None:
            return self.schedule
        return f"per {per}" + (f", {self.schedule}" if self.schedule else "")

    def quantities(self) -> tuple[pint.Quantity, pint.Quantity]:
        """Low and high ends as pint quantities (equal for a single amount)."""
        low = quantity(self.low, self.unit, self.basis)
        return low, quantity(self.high, self.unit, self.basis) if self.high is not None else low

    def semantics(self) -> tuple[object, ...]:
        """Everything a dose means, without where it was written: for equality across texts."""
        return (
            self.drug_key,
            self.low,
            self.high,
            self.unit,
            self.basis,
            self.per,
            self.route,
            self.schedule,
            self.course,
            self.ceiling,
        )


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


def _plural(word: str, count: str) -> str:
    word = word.lower().rstrip("s")
    return word if count == "1" else word + "s"


def _count(text: str) -> str:
    return re.sub(r"\s*(?:-|to)\s*", "-", text.strip())


def _course_count(match: re.Match[str]) -> str:
    count = _count(match.group(1))
    return f"{count} {_plural(match.group(2) or 'doses', count)}".replace("times", "doses").replace("time", "dose")


_ROUTES: dict[str, str] = {"i": "IV", "p": "PO", "o": "PO", "b": "PO", "s": "SC", "m": "IM"}
_ROUTE = re.compile(
    r"(?:iv|i\.v\.|intravenous(?:ly)?(?!\s+immun)|po|p\.o\.|per\s+os|orally|oral|by\s+mouth|sc|sq|s\.c\.|"
    r"subcut(?:aneous(?:ly)?)?(?!\s+immun)|im|i\.m\.|intramuscular(?:ly)?)(?![a-z])(?:\s+(?:infusion|bolus|push|injection))?",
    re.IGNORECASE,
)


def _route(match: re.Match[str]) -> str:
    word = match.group(0).lower()
    if word.startswith(("iv", "i.v", "intraven")):
        return "IV"
    if word.startswith(("im", "i.m", "intramus")):
        return "IM"
    if word.startswith(("sc", "sq", "s.c", "subcut")):
        return "SC"
    return "PO"


def _q_hours(match: re.Match[str]) -> str:
    high = f"-{match.group(2)}" if match.group(2) else ""
    return f"q{match.group(1)}{high}h"


def _every(match: re.Match[str]) -> str:
    count = match.group(1)
    return f"every {count} {_plural(match.group(2), count)}"


_SCHEDULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"q\s?(\d+)(?:\s?-\s?(\d+))?\s?h(?:ours?|rs?)?(?![a-z])", re.I), _q_hours),
    (re.compile(r"every\s+(\d+)\s*(?:hours?|hrs?|h)(?![a-z])", re.I), lambda m: f"q{m.group(1)}h"),
    (re.compile(r"every\s+(\d+)\s+(days?|weeks?|months?)(?![a-z])", re.I), _every),
    (re.compile(r"(?:every\s+other\s+day|(?:on\s+)?alternate\s+days|qod)(?![a-z])", re.I), lambda m: "every other day"),
    (
        re.compile(r"(?:twice|two\s+times)\s+(?:daily|a\s+day|per\s+day)|b\.?i\.?d\.?(?![a-z])|bd(?![a-z])", re.I),
        lambda m: "twice daily",
    ),
    (
        re.compile(r"(?:three\s+times)\s+(?:daily|a\s+day|per\s+day)|t\.?i\.?d\.?(?![a-z])|tds(?![a-z])", re.I),
        lambda m: "three times daily",
    ),
    (
        re.compile(r"(?:four\s+times)\s+(?:daily|a\s+day|per\s+day)|q\.?i\.?d\.?(?![a-z])|qds(?![a-z])", re.I),
        lambda m: "four times daily",
    ),
    (
        re.compile(
            r"(?:once\s+(?:daily|a\s+day|per\s+day)|daily|every\s+day|each\s+day|q\.?d\.?|o\.?d\.?)(?![a-z])", re.I
        ),
        lambda m: "daily",
    ),
    (
        re.compile(r"(two|three|2|3)\s+times\s+(?:a\s+|per\s+)?week(?:ly)?(?![a-z])", re.I),
        lambda m: f"{_WORD_NUMBERS.get(m.group(1).lower(), m.group(1))} times weekly",
    ),
    (
        re.compile(r"(?:(?:once\s+)?weekly|once\s+(?:a|per)\s+week|every\s+week|each\s+week|q\s?wk|qw)(?![a-z])", re.I),
        lambda m: "weekly",
    ),
    (re.compile(r"(?:(?:once\s+)?monthly|once\s+a\s+month|every\s+month)(?![a-z])", re.I), lambda m: "monthly"),
    (re.compile(r"(?:nightly|at\s+night|at\s+bedtime|qhs|nocte)(?![a-z])", re.I), lambda m: "nightly"),
    (re.compile(r"(?:once|stat|one\s+time)(?![a-z])", re.I), lambda m: "once"),
]

_MODIFIERS: list[tuple[re.Pattern[str], _Apply]] = [
    (_ROUTE, _set("route", _route)),
    *[(pattern, _set("schedule", value)) for pattern, value in _SCHEDULES],
    (
        re.compile(rf"x\s?(\d+)(?:\s*(doses?|days?|weeks?|months?|cycles?|times))?(?![\w.,]){_NOT_A_UNIT_AFTER}", re.I),
        _add_course(_course_count),
    ),
    (re.compile(rf"for\s+{_COUNT}\s+(doses?|days?|weeks?|months?|cycles?)(?![a-z])", re.I), _add_course(_course_count)),
    (
        re.compile(rf"(?:divided\s+)?over\s+{_COUNT}\s+(days?|weeks?)(?![a-z])", re.I),
        _add_course(lambda m: f"over {_count(m.group(1))} {_plural(m.group(2), _count(m.group(1)))}"),
    ),
    (
        re.compile(r"(?:as\s+)?(?:an?\s+)?(?:single|one-time|one\s+time)\s+(?:dose|infusion)(?![a-z])", re.I),
        _add_course(lambda m: "single dose"),
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
            rf"(?:then\s+)?tapered?(?:\s+(?:slowly|gradually))?(?:\s+over\s+{_COUNT}\s+(days?|weeks?|months?))?(?![a-z])",
            re.I,
        ),
        _add_course(
            lambda m: (
                f"taper over {_count(m.group(1))} {_plural(m.group(2), _count(m.group(1)))}" if m.group(1) else "taper"
            )
        ),
    ),
    (
        re.compile(r"in\s+(\d+|two|three|four)\s+divided\s+doses(?![a-z])", re.I),
        _add_course(lambda m: f"in {_WORD_NUMBERS.get(m.group(1).lower(), m.group(1))} divided doses"),
    ),
    (re.compile(r"(?:as\s+needed|p\.?r\.?n\.?|when\s+required)(?![a-z])", re.I), _add_course(lambda m: "as needed")),
    (re.compile(r"(?:in\s+)?total(?![a-z])", re.I), _set("per", lambda m: "course")),
    (re.compile(r"max(?:imum)?(?![a-z])(?!\.?\s*(?:dose\s*)?(?:of\s*)?[\d.,(])", re.I), _mark_ceiling),
]


# --- parsing ------------------------------------------------------------------------


def parse_doses(text: str, context: str | None = None) -> list[Dose]:
    """Every dose written in ``text``, in order, each with the nearest drug name in its sentence.

    ``context`` is a lead-in sentence (for a bullet item): when the text itself names
    no drug, a single drug named there is used. Never raises.
    """
    if not isinstance(text, str) or not text:
        return []
    norm = normalize(text)
    doses: list[Dose] = []
    position = 0
    while (match := _CORE.search(norm, position)) is not None:
        dose = _dose_from_core(text, norm, match)
        position = match.end()
        if dose is not None:
            doses.append(dose)
            position = max(position, dose.end)
    return _attach_drugs(text, doses, context)


def format_number(value: Decimal) -> str:
    """Plain decimal notation with a leading zero and no trailing zeros: the safe way to write an amount."""
    text = format(value.normalize(), "f")
    return text


def format_dose(dose: Dose) -> str:
    """The canonical text of a dose; ``parse_doses(format_dose(d))`` gives back ``d``'s meaning."""
    parts: list[str] = []
    if dose.drug:
        parts.append(dose.drug)
    if dose.ceiling:
        parts.append("max")
    parts.append(f"{dose.amount_text} {dose.unit_text}")
    if dose.route:
        parts.append(dose.route)
    if dose.schedule:
        parts.append(dose.schedule)
    parts.extend(_course_text(phrase) for phrase in dose.course)
    return " ".join(parts)


def _course_text(phrase: str) -> str:
    if phrase == "single dose":
        return "as a single dose"
    if phrase == "repeat if necessary":
        return "repeated if necessary"
    if phrase == "repeat":
        return "repeated"
    if phrase.startswith("taper"):
        return phrase.replace("taper", "tapered", 1)
    if phrase.startswith(("over ", "in ")) or phrase == "as needed":
        return phrase
    return f"for {phrase}"


def _dose_from_core(text: str, norm: str, match: re.Match[str]) -> Dose | None:
    unit = _UNIT_NAMES.get(match.group("unit").lower())
    low = _number(match.group("low"))
    high = _number(match.group("high")) if match.group("high") else None
    if unit is None or low is None or (match.group("high") and high is None):
        return None
    start = match.start()
    unit1 = _UNIT_NAMES.get((match.group("unit1") or "").lower())
    if unit1 is not None and unit1 != unit:
        if unit1 not in _MASS_IN_G or unit not in _MASS_IN_G:
            return None
        low = low * _MASS_IN_G[unit1] / _MASS_IN_G[unit]
    if high is not None and high <= low:
        # "2-1 mg" is not a range; read only the last amount rather than guess.
        low, high, start = high, None, match.start("high")
    fields: dict = {
        "basis": _basis(match.group("basis")),
        "per": _per(match.group("per") or match.group("per_a")),
        "route": None,
        "schedule": None,
        "course": (),
        "ceiling": False,
    }
    before = norm[max(0, start - 40) : start]
    if ceiling := _CEILING_BEFORE.search(before):
        fields["ceiling"] = True
        start = start - len(before) + ceiling.start()
    elif fields["per"] is None and _TOTAL_BEFORE.search(before):
        fields["per"] = "course"
    end = _read_tail(norm, match.end(), fields)
    risks = _risks(match)
    return Dose(text=text[start:end], start=start, end=end, low=low, high=high, unit=unit, risks=risks, **fields)


def _read_tail(norm: str, position: int, fields: dict) -> int:
    """Consume modifiers after the core; returns where the dose text ends."""
    end = position
    while True:
        gap = _SEPARATOR.match(norm, end)
        at = gap.end() if gap else end
        for pattern, apply in _MODIFIERS:
            found = pattern.match(norm, at)
            if found and found.end() > at and apply(fields, found):
                end = found.end()
                break
        else:
            return end


def _number(raw: str | None) -> Decimal | None:
    if not raw:
        return None
    if re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?", raw):
        cleaned = raw.replace(",", "")
    else:
        cleaned = raw.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    # Outside these bounds a number is not a dose (and would overflow float arithmetic downstream).
    return value if value.is_finite() and _SMALLEST <= value <= _LARGEST else None


def _basis(raw: str | None) -> str | None:
    if raw is None:
        return None
    return "kg" if raw.lower().startswith("k") else "m2"


def _per(raw: str | None) -> str | None:
    if raw is None:
        return None
    word = re.sub(r"\s", "", raw.lower())
    if word.startswith("24"):
        return "day"
    word = _PER_NAMES.get(word, word)
    word = _PER_NAMES.get(word.rstrip("s"), word.rstrip("s"))
    return {"hour": "hour", "minute": "minute", "day": "day", "week": "week", "dose": "dose", "course": "course"}.get(
        word
    )


def _risks(match: re.Match[str]) -> tuple[str, ...]:
    """Ways of writing an amount that are known sources of tenfold errors (ISMP / Joint Commission lists)."""
    risks: list[str] = []
    for raw in filter(None, (match.group("low"), match.group("high"))):
        value = _number(raw)
        shown = format_number(value) if value is not None else raw
        if raw[0] in ".,":
            risks.append(f"naked decimal “{raw}” (write a leading zero: {shown})")
        elif re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?", raw):
            risks.append(
                f"comma in “{raw}” read as a thousands separator ({shown}); as a decimal comma it would be 1000 times smaller"
            )
        elif "," in raw:
            risks.append(f"decimal comma “{raw}” (read as {shown})")
        if re.search(r"[.,]\d*0$", raw) and not re.fullmatch(r"[1-9]\d{0,2}(?:,\d{3})+", raw):
            risks.append(f"trailing zero “{raw}” (write {shown}; 1.0 can be misread as 10)")
    if match.group("unit") in ("u", "U"):
        risks.append("abbreviation “U” for units (can be misread as 0 or 4; write “units”)")
    return tuple(risks)


# --- drug attribution --------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?](?:\s+(?=[A-Z(\"“'])|\s*$)|\n")


def _attach_drugs(text: str, doses: list[Dose], context: str | None) -> list[Dose]:
    if not doses:
        return doses
    mentions = find_drugs(text)
    fallback = _single_drug(mentions) or (_single_drug(find_drugs(context)) if context else None)
    bounds = _sentence_bounds(text)
    attached: list[Dose] = []
    for dose in doses:
        lo, hi = next(((s, e) for s, e in bounds if s <= dose.start < e), (0, len(text)))
        nearby = [m for m in mentions if m.start >= lo and m.end <= hi and not (dose.start <= m.start < dose.end)]
        mention = min(nearby, key=lambda m: _distance(m, dose), default=fallback)
        if mention is not None:
            dose = replace(dose, drug=mention.surface, drug_key=mention.key)
        attached.append(dose)
    return attached


def _distance(mention: DrugMention, dose: Dose) -> tuple[int, int]:
    """Drug names before a dose ("prednisone 1 mg/kg") win over names after it at equal distance."""
    if mention.end <= dose.start:
        return (dose.start - mention.end, 0)
    return (2 * (mention.start - dose.end) + 1, 1)


def _single_drug(mentions: list[DrugMention]) -> DrugMention | None:
    keys = {m.key for m in mentions}
    return mentions[0] if len(keys) == 1 else None


def _sentence_bounds(text: str) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        bounds.append((start, match.end()))
        start = match.end()
    bounds.append((start, len(text) + 1))
    return bounds
