"""Doses written in a question, compared with the guideline's as whole regimens: amount, unit, route, frequency,
course, and the daily and per-course totals they add up to.

A question that states a dose ("Is IVIG 2 g/kg right?", "methylprednisolone 1 g IV
daily x 30?", "IVIG 1 g/kg IM?") is compared with every quoted dose for the same
drug, field by field, and the closest one is named in the flag with its source.
Every difference found is said in the flag; its ``risk`` is the most harmful of them
(a tenfold slip before an impossible unit before a course total of twice the
guideline's or more, ...), and its ``severity`` is ``block`` for a tenfold slip, an
impossible unit or a total ten times the guideline's. Nothing in the question is
ever adopted: an instruction inside it is just another dose to check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pint
from pint.errors import DimensionalityError

from assistant.answer.schema import Flag, FlagCode, Risk, Severity
from assistant.guardrails.asked import Asked
from assistant.guardrails.checks import Outcome, QuotedDose, says
from assistant.guardrails.dose_value import format_number
from assistant.guardrails.doses import Dose
from assistant.guardrails.regimen import course_difference, interval_days, once, regimen_of, route_of
from assistant.vocabulary.drugs import same_drug
from assistant.vocabulary.routes import adverb, routes_written, same_route
from assistant.vocabulary.units import IMPOSSIBLE_PER_KG

# Ratios that are a slipped decimal point or a mg/g/mcg mix-up, not a clinical choice.
_TENFOLD_POWERS = (1, 2, 3, 6)
# A total this many times the guideline's is flagged (warn), and blocked from the second figure on.
TOTAL_WARN, TOTAL_BLOCK = 2.0, 10.0
# Most harmful first: the flag's risk is the first of these among the differences found.
_PRIORITY = (
    Risk.UNIT,
    Risk.TENFOLD,
    Risk.OVERDOSE_TOTAL,
    Risk.ROUTE,
    Risk.AMOUNT,
    Risk.FREQUENCY,
    Risk.COURSE,
)


@dataclass(frozen=True)
class _Difference:
    rank: int
    code: FlagCode
    detail: str
    risk: Risk
    severity: Severity = Severity.WARN
    distance: float = 0.0


def check_question_doses(asked: Asked, quoted: list[QuotedDose]) -> Outcome:
    """Compare each dose in the question with the quoted doses for the same drug; name both when they differ.

    An instruction inside the question ("say the dose is 5 g/kg") is just another
    question dose: it is compared and flagged, never adopted.
    """
    flags = [_question_flag(dose, quoted) for dose in asked.doses]
    return Outcome(flags=tuple(flag for flag in flags if flag is not None))


def impossible(dose: Dose) -> str | None:
    """Why an amount cannot be a dose of any medicine ("1 kg/kg": the patient's own weight), or None."""
    _, high = dose.quantities()
    if dose.basis is None:
        return None
    if dose.unit in ("kg", "L"):
        return f"{dose.text} is not a possible dose of any medicine: a {dose.unit} per {dose.basis} is body-sized."
    for unit, limit in IMPOSSIBLE_PER_KG.items():
        per_kg = _per_kg(high, unit)
        if per_kg is not None and per_kg >= limit:
            return (
                f"{dose.text} is not a possible dose of any medicine: it is "
                f"{format_number(dose.high or dose.low)} {dose.unit_text}, a tenth of the patient's own weight or more."
            )
    return None


# An adult's body surface carries about 40 kg of body weight per m² (70 kg, 1.73 m²).
_KG_PER_M2 = 40.0


def _per_kg(amount: pint.Quantity, unit: str) -> float | None:
    """The amount in ``unit`` per kg of body weight (a per-m² amount through ~40 kg/m²); None if not convertible."""
    try:
        return float(amount.to(f"{unit} / kg_body_weight").magnitude)
    except DimensionalityError:
        pass
    try:
        return float(amount.to(f"{unit} / m2_body_surface").magnitude) / _KG_PER_M2
    except DimensionalityError:
        return None


def _question_flag(asked: Dose, quoted: list[QuotedDose]) -> Flag | None:
    name = asked.drug or "the drug"
    why = impossible(asked)
    candidates = _candidates(asked, quoted)
    if why is not None and not candidates:
        return Flag(
            code=FlagCode.DOSE_UNIT_MISMATCH,
            severity=Severity.BLOCK,
            risk=Risk.UNIT,
            message=f"The question states {name} {asked.text}. {why} Check the unit and the number.",
            text=asked.text,
        )
    if not candidates:
        kind = "maximum" if asked.ceiling else "dose"
        return Flag(
            code=FlagCode.DOSE_NOT_IN_SOURCE,
            severity=Severity.WARN,
            message=(
                f"The question states {name} {asked.text}, but the guideline passages shown do not state a {kind} "
                f"for {name}, so it could not be checked against the guideline."
            ),
            text=asked.text,
        )
    ranked = sorted(
        ((differences(asked, found), index, found) for index, found in enumerate(candidates)),
        key=lambda item: (
            bool(item[0]),
            max((d.rank for d in item[0]), default=0),
            sum(d.distance for d in item[0]),
            item[1],
        ),
    )
    found, _, closest = ranked[0]
    if why is not None:
        found = [
            _Difference(5, FlagCode.DOSE_UNIT_MISMATCH, why, Risk.UNIT, Severity.BLOCK),
            *found,
        ]
    if not found:
        return None
    worst = min(found, key=lambda d: _PRIORITY.index(d.risk))
    code = worst.code if worst.risk is not Risk.OVERDOSE_TOTAL else next(d.code for d in found)
    severity = Severity.BLOCK if any(d.severity is Severity.BLOCK for d in found) else Severity.WARN
    details = " ".join(dict.fromkeys(d.detail for d in found))
    return Flag(
        code=code,
        severity=severity,
        risk=worst.risk,
        message=(
            f"The question states {name} {asked.text}, but {says(closest.quote)} "
            f"{details} The guideline dose is {closest.dose.text}, not {asked.text}."
        ),
        text=asked.text,
    )


def _candidates(asked: Dose, quoted: list[QuotedDose]) -> list[QuotedDose]:
    """The quoted doses a question dose is compared with: the same drug (or no drug named), dose or maximum alike."""
    candidates = [
        found
        for found in quoted
        if found.dose.ceiling == asked.ceiling
        and (asked.drug_key is None or found.dose.drug_key is None or same_drug(asked.drug_key, found.dose.drug_key))
    ]
    if asked.drug_key is not None:
        named = [found for found in candidates if found.dose.drug_key is not None]
        candidates = named or candidates
    return candidates


def differences(asked: Dose, found: QuotedDose) -> list[_Difference]:
    """Every way a question dose differs from one quoted dose, field by field; empty when consistent."""
    source = found.dose
    asked_low, asked_high = asked.quantities()
    source_low, source_high = source.quantities()
    if asked_low.dimensionality != source_low.dimensionality:
        if asked.basis != source.basis:
            detail = (
                f"The basis differs: {_basis_words(asked.basis)} in the question, "
                f"{_basis_words(source.basis)} in the guideline."
            )
        else:
            detail = f"The units differ ({asked.unit} vs {source.unit})."
        return [_Difference(4, FlagCode.DOSE_UNIT_MISMATCH, detail, Risk.UNIT)]
    low = float(asked_low.to(source_low.units).magnitude)
    high = float(asked_high.to(source_low.units).magnitude)
    lo, hi = float(source_low.magnitude), float(source_high.magnitude)
    found_differences: list[_Difference] = []
    if not (lo * (1 - 1e-9) <= low and high <= hi * (1 + 1e-9)):
        found_differences.append(_amount_difference(asked, source, low, high, lo, hi))
    if (frequency := _frequency_difference(asked, source)) is not None:
        found_differences.append(frequency)
    if (course := course_difference(asked, source)) is not None:
        found_differences.append(_Difference(1, FlagCode.DOSE_FREQUENCY_MISMATCH, course, Risk.COURSE))
    if (route := _route_difference(asked, found)) is not None:
        found_differences.append(route)
    if found_differences and (total := _total_difference(asked, source, (low, high), (lo, hi))) is not None:
        found_differences.append(total)
    return found_differences


def _amount_difference(asked: Dose, source: Dose, low: float, high: float, lo: float, hi: float) -> _Difference:
    """The amount per dose differs: a tenfold slip (block) when ten times off or more, else an amount difference."""
    value = low if low < lo else high
    nearest = lo if abs(math.log(value / lo)) <= abs(math.log(value / hi)) else hi
    ratio = value / nearest
    distance = abs(math.log10(ratio))
    power = round(math.log10(ratio))
    if abs(power) in _TENFOLD_POWERS and abs(ratio / 10**power - 1) < 1e-6:
        size = f"{10 ** abs(power):,} times {'larger' if power > 0 else 'smaller'}"
        if asked.unit != source.unit:
            detail = f"That is {size} than the guideline dose: a unit slip ({asked.unit} vs {source.unit})."
            return _Difference(3, FlagCode.DOSE_UNIT_MISMATCH, detail, Risk.TENFOLD, Severity.BLOCK, distance)
        detail = f"That is {size} than the guideline dose (a decimal-point slip?)."
        return _Difference(3, FlagCode.DOSE_MISMATCH, detail, Risk.TENFOLD, Severity.BLOCK, distance)
    if ratio >= 10 or ratio <= 0.1:
        times = ratio if ratio >= 1 else 1 / ratio
        detail = f"That is {_times(times)} times {'larger' if ratio > 1 else 'smaller'} than the guideline dose."
        return _Difference(3, FlagCode.DOSE_MISMATCH, detail, Risk.TENFOLD, Severity.BLOCK, distance)
    return _Difference(3, FlagCode.DOSE_MISMATCH, "The amount differs.", Risk.AMOUNT, Severity.WARN, distance)


def _frequency_key(dose: Dose) -> object:
    """How often a dose is given, comparable across wordings: "single"; days between doses; the words; None."""
    if once(dose):
        return "single"
    interval = interval_days(dose)
    if interval is not None and not (dose.per == "day" and dose.schedule not in (None, "daily")):
        return round(interval, 6)
    return dose.frequency


def _frequency_difference(asked: Dose, source: Dose) -> _Difference | None:
    """ "daily" = "per day" = "/day" = "once a day" = "q24h"; "once" = "a single dose": the same frequency."""
    if asked.frequency is None or _frequency_key(asked) == _frequency_key(source):
        return None
    if asked.schedule == "once" and source.frequency is None and not source.course:
        return None  # the guideline states one amount with no schedule: "once" adds nothing to check
    given = _source_frequency(source) or "without a repeating schedule"
    return _Difference(
        1,
        FlagCode.DOSE_FREQUENCY_MISMATCH,
        f"The frequency differs: {asked.frequency} in the question, {given} in the guideline.",
        Risk.FREQUENCY,
    )


def _route_difference(asked: Dose, found: QuotedDose) -> _Difference | None:
    source = found.dose
    asked_route, source_route = route_of(asked), implied_route(found)
    if asked_route is None or source_route is None or same_route(asked_route, source_route):
        return None
    implied = ""
    if not source.route:
        implied = f" ({source.drug or 'the drug'} is given {adverb(source_route)}, as the guideline's text says)"
    return _Difference(
        2,
        FlagCode.DOSE_MISMATCH,
        f"The route differs: {asked_route} in the question, {source_route} in the guideline{implied}.",
        Risk.ROUTE,
    )


def implied_route(found: QuotedDose) -> str | None:
    """The route of a quoted dose: as written with it, else as the drug's name says, else the one route its
    statement (or the statement's lead-in or section) names: "... by intramuscular injection" gives IM."""
    route = route_of(found.dose)
    if route is not None:
        return route
    quote = found.quote
    for text in (quote.text, quote.context or "", quote.section or ""):
        written = routes_written(text)
        if len(written) == 1:
            return next(iter(written))
        if written:
            return None  # several routes named: none is this dose's for certain
    return None


def _per_day(dose: Dose, amount: float) -> float | None:
    """The amount given per day, or None when the text does not allow it (a course total, an "as needed")."""
    if dose.per == "day":
        return amount
    if dose.per in ("course", "hour", "minute") or "as needed" in dose.course or "continuous infusion" in dose.course:
        return None
    if once(dose):
        return amount
    interval = interval_days(dose)
    if not interval:
        return None
    # A course shorter than a day ("every 20 minutes for 3 doses") gives no more in a day than in the course.
    course = _per_course(dose, amount)
    return min(amount / interval, course) if course is not None else amount / interval


def _per_course(dose: Dose, amount: float) -> float | None:
    """The amount over the whole course, or None when the course is open (a taper, "indefinitely", "as needed")."""
    regimen = regimen_of(dose)
    if dose.per == "course":
        return amount
    if regimen.tapered or regimen.indefinite or regimen.continuous or "as needed" in dose.course:
        return None
    if dose.per == "day":
        return amount * regimen.days[1] if regimen.days is not None else None
    if dose.per in ("hour", "minute", "week"):
        return None
    if regimen.single or regimen.doses == (1.0, 1.0):
        return amount
    return amount * regimen.doses[1] if regimen.doses is not None else None


def _total_difference(
    asked: Dose, source: Dose, amount: tuple[float, float], guideline: tuple[float, float]
) -> _Difference | None:
    """The daily or per-course total is >= 2x the guideline's highest (block from 10x), when both sides allow it."""
    unit = source.unit_text.split("/day")[0].split("/week")[0]
    worst: tuple[float, str, float, float] | None = None
    for what, total in (("per day", _per_day), ("over the course", _per_course)):
        mine, theirs = total(asked, amount[1]), total(source, guideline[1])
        if mine is None or theirs is None or theirs <= 0:
            continue
        ratio = mine / theirs
        if worst is None or ratio > worst[0]:
            worst = (ratio, what, mine, theirs)
    if worst is None or worst[0] < TOTAL_WARN * (1 - 1e-9):
        return None
    ratio, what, mine, theirs = worst
    severity = Severity.BLOCK if ratio >= TOTAL_BLOCK * (1 - 1e-9) else Severity.WARN
    detail = (
        f"Given this way, the patient receives {_amount(mine)} {unit} {what}, against at most {_amount(theirs)} "
        f"{unit} {what} in the guideline: {_times(ratio)} times the guideline's total."
    )
    return _Difference(0, FlagCode.DOSE_MISMATCH, detail, Risk.OVERDOSE_TOTAL, severity)


def _amount(value: float) -> str:
    return f"{value:,.4g}".replace(",", " ") if value < 1e6 else f"{value:.3g}"


def _times(ratio: float) -> str:
    return f"{ratio:.0f}" if abs(ratio - round(ratio)) < 0.05 else f"{ratio:.1f}"


def _source_frequency(source: Dose) -> str | None:
    if source.frequency is not None and source.schedule != "once":
        return source.frequency
    return "as a single dose" if once(source) else None


def _basis_words(basis: str | None) -> str:
    return {"kg": "per kg of body weight", "m2": "per m² of body-surface area"}.get(basis or "", "a fixed dose")
