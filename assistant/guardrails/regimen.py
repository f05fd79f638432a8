"""Regimen comparison: course length, repetitions, tapers, continuous infusions and route, across units.

Two doses with the same amount can still be different regimens: "1 g IV daily for
3 days" and "1 g IV daily x 30" differ tenfold in what the patient receives. The
course phrases a parsed dose carries ("3 days", "30 doses", "single dose",
"taper over 6-12 months", "continuous infusion", "indefinitely") are read here
into one comparable shape: a number of administrations and a length in days
(each a range), converted through the schedule (daily, weekly, q8h) where the
text gives only one of them. A question's regimen is consistent with the
guideline's only when everything it states lies within what the guideline states.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.guardrails.dose_value import Dose
from assistant.vocabulary.routes import route_in_name
from assistant.vocabulary.schedules import DAYS, course_words, interval_of, regimen_words

_DAYS = DAYS  # days per unit of a course length; a month is read as 28-31 days (tolerance below)
_MONTH_TOLERANCE = 0.1
_COUNTED = re.compile(
    r"^(?:over\s+)?(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?\s+(dose|infusion|day|week|month|year|hour)s?$"
)
_TAPER = re.compile(r"^taper over (\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))? (hour|day|week|month|year)s?$")
_REPEAT_COUNT = re.compile(r"^repeat (\d+) times$")

Range = tuple[float, float]


@dataclass(frozen=True)
class Regimen:
    """What a dose's course says, in comparable numbers (None: not stated)."""

    doses: Range | None = None
    days: Range | None = None
    single: bool = False
    repeats: int | None = None
    repeatable: bool = False
    taper: Range | None = None
    tapered: bool = False
    continuous: bool = False
    indefinite: bool = False
    stopped: bool = False  # stopped abruptly (no taper)

    @property
    def states_length(self) -> bool:
        return self.doses is not None or self.days is not None or self.indefinite or self.repeats is not None


def interval_days(dose: Dose) -> float | None:
    """Days between administrations from the schedule ("q8h" -> 1/3), or None when not stated."""
    if dose.per in ("day", "week") and dose.schedule in (None, "daily", "weekly"):
        return {"day": 1.0, "week": 7.0}[dose.per]
    if dose.schedule and (interval := interval_of(dose.schedule)) is not None:
        return interval
    return {"day": 1.0, "week": 7.0}.get(dose.per or "")


def once(dose: Dose) -> bool:
    """ "once", "stat", "as a single dose", "one dose": one administration, however it is written."""
    return dose.schedule == "once" or "single dose" in dose.course


def regimen_of(dose: Dose) -> Regimen:
    """Read a dose's course phrases into a ``Regimen``, filling doses from days (or back) through the schedule."""
    fields: dict[str, object] = {}
    for phrase in dose.course:
        _read_phrase(phrase, fields)
    if dose.schedule == "once":
        fields |= {"single": True, "doses": (1.0, 1.0)}
    regimen = Regimen(**fields)  # type: ignore[arg-type]
    interval = interval_days(dose)
    if interval is None or regimen.continuous:
        return regimen
    if regimen.days is None and regimen.doses is not None:
        regimen = _with(regimen, days=(regimen.doses[0] * interval, regimen.doses[1] * interval))
    elif regimen.doses is None and regimen.days is not None:
        regimen = _with(regimen, doses=(regimen.days[0] / interval, regimen.days[1] / interval))
    return regimen


def _with(regimen: Regimen, **changes: object) -> Regimen:
    values = {name: getattr(regimen, name) for name in regimen.__dataclass_fields__}
    return Regimen(**(values | changes))


def _read_phrase(phrase: str, fields: dict[str, object]) -> None:
    if phrase == "single dose":
        fields |= {"single": True, "doses": (1.0, 1.0)}
    elif phrase in ("repeat", "repeat if necessary"):
        fields["repeatable"] = True
    elif match := _REPEAT_COUNT.match(phrase):
        fields["repeats"] = int(match.group(1))
    elif phrase == "taper":
        fields["tapered"] = True
    elif match := _TAPER.match(phrase):
        fields |= {"tapered": True, "taper": _range(match.group(1), match.group(2), match.group(3))}
    elif phrase == "continuous infusion":
        fields["continuous"] = True
    elif phrase == "indefinitely":
        fields["indefinite"] = True
    elif phrase == "abrupt stop":
        fields["stopped"] = True
    elif match := _COUNTED.match(phrase):
        kind = "doses" if match.group(3) in ("dose", "infusion") else "days"
        factor = 1.0 if kind == "doses" else _DAYS[match.group(3)]
        low = float(match.group(1)) * factor
        fields[kind] = (low, float(match.group(2)) * factor if match.group(2) else low)


def _range(low: str, high: str | None, unit: str) -> Range:
    factor = _DAYS[unit]
    return float(low) * factor, float(high or low) * factor


def _within(inner: Range, outer: Range, tolerance: float = 1e-9) -> bool:
    return outer[0] * (1 - tolerance) <= inner[0] and inner[1] <= outer[1] * (1 + tolerance)


def described(dose: Dose) -> str:
    """The guideline's regimen in words for a message: "daily, for 3 days"; "a single dose"."""
    return regimen_words(dose.schedule, dose.course) or "no course length"


def course_difference(asked: Dose, source: Dose) -> str | None:
    """How the question's course differs from the guideline's, in words; None when it states nothing else."""
    a, s = regimen_of(asked), regimen_of(source)
    guideline = described(source)
    if a.continuous and not s.continuous:
        return f"The regimen differs: a continuous infusion in the question, {guideline} in the guideline."
    if a.indefinite and not s.indefinite:
        return f"The course length differs: indefinitely (for life) in the question, {guideline} in the guideline."
    if a.repeats is not None and s.repeats != a.repeats:
        return f"The course differs: repeated {a.repeats} times in the question, {guideline} in the guideline."
    taper = _taper_difference(asked, a, s, guideline)
    if taper is not None:
        return taper
    if s.single and not s.repeats and _longer_than_one(a):
        return f"The course length differs: {_asked_length(asked)} in the question, a single dose in the guideline."
    for kind in ("doses", "days"):
        mine, theirs = getattr(a, kind), getattr(s, kind)
        written = " ".join(asked.course + source.course)
        tolerance = _MONTH_TOLERANCE if "month" in written or "year" in written else 1e-9
        if mine is not None and theirs is not None and not _within(mine, theirs, tolerance):
            return f"The course length differs: {_asked_length(asked)} in the question, {guideline} in the guideline."
    return None


def _taper_difference(asked: Dose, a: Regimen, s: Regimen, guideline: str) -> str | None:
    if a.stopped and s.tapered:
        return (
            f"The course differs: stopped abruptly in the question, {guideline} in the guideline (a taper, not a stop)."
        )
    if a.taper is not None and s.taper is not None and not _within(a.taper, s.taper, _MONTH_TOLERANCE):
        return f"The taper differs: {_taper_words(asked)} in the question, {guideline} in the guideline."
    if a.tapered and not s.tapered:
        return f"The course differs: tapered in the question, {guideline} in the guideline (no taper stated)."
    if s.tapered and not a.tapered and (a.states_length or a.single):
        return (
            f"The course differs: {_asked_length(asked)} with no taper in the question, {guideline} in the guideline."
        )
    return None


def _longer_than_one(regimen: Regimen) -> bool:
    more_doses = regimen.doses is not None and regimen.doses[1] > 1
    more_days = regimen.days is not None and regimen.days[1] > 1
    return more_doses or more_days or regimen.indefinite or regimen.repeats is not None


def _asked_length(asked: Dose) -> str:
    counted = [phrase for phrase in asked.course if _COUNTED.match(phrase) or phrase == "single dose"]
    return " ".join(course_words(phrase) for phrase in counted).replace("for ", "", 1) or described(asked)


def _taper_words(asked: Dose) -> str:
    return next((course_words(p) for p in asked.course if p.startswith("taper")), "tapered")


def route_of(dose: Dose) -> str | None:
    """The route a dose is given by: as written, else as the drug's own name says (IVIG is intravenous)."""
    if dose.route is not None:
        return dose.route
    # Route words in a drug's own name: "intravenous immunoglobulin" is given IV whatever the sentence says.
    return route_in_name(dose.drug_key or "")
