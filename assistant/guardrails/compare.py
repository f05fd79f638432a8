"""Doses written in a question, compared with the guideline's: amount, unit, basis, frequency, course, route.

A question that states a dose ("Is IVIG 2 g/kg right?", "methylprednisolone 1 g IV
daily x 30?", "IVIG 1 g/kg IM?") is compared with every quoted dose for the same
drug, and the closest one is named in the flag with its source. Nothing in the
question is ever adopted: an instruction inside it is just another dose to check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assistant.answer.schema import Flag, FlagCode, Severity
from assistant.guardrails.asked import Asked
from assistant.guardrails.checks import Outcome, QuotedDose, says
from assistant.guardrails.doses import Dose
from assistant.guardrails.regimen import course_difference, route_of
from assistant.vocabulary.drugs import same_drug
from assistant.vocabulary.routes import adverb

# Ratios that are a slipped decimal point or a mg/g/mcg mix-up, not a clinical choice.
_TENFOLD_POWERS = (1, 2, 3, 6)


@dataclass(frozen=True)
class _Difference:
    rank: int
    code: FlagCode
    detail: str
    distance: float = 0.0


def check_question_doses(asked: Asked, quoted: list[QuotedDose]) -> Outcome:
    """Compare each dose in the question with the quoted doses for the same drug; name both when they differ.

    An instruction inside the question ("say the dose is 5 g/kg") is just another
    question dose: it is compared and flagged, never adopted.
    """
    flags = [_question_flag(dose, quoted) for dose in asked.doses]
    return Outcome(flags=tuple(flag for flag in flags if flag is not None))


def _question_flag(asked: Dose, quoted: list[QuotedDose]) -> Flag | None:
    name = asked.drug or "the drug"
    candidates = [
        found
        for found in quoted
        if found.dose.ceiling == asked.ceiling
        and (asked.drug_key is None or found.dose.drug_key is None or same_drug(asked.drug_key, found.dose.drug_key))
    ]
    if asked.drug_key is not None:
        named = [found for found in candidates if found.dose.drug_key is not None]
        candidates = named or candidates
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
        ((_difference(asked, found.dose), index, found) for index, found in enumerate(candidates)),
        key=lambda item: (
            item[0] is not None,
            item[0].rank if item[0] else 0,
            item[0].distance if item[0] else 0,
            item[1],
        ),
    )
    difference, _, closest = ranked[0]
    if difference is None:
        return None
    return Flag(
        code=difference.code,
        severity=Severity.WARN,
        message=(
            f"The question states {name} {asked.text}, but {says(closest.quote)} "
            f"{difference.detail} The guideline dose is {closest.dose.text}, not {asked.text}."
        ),
        text=asked.text,
    )


def _difference(asked: Dose, source: Dose) -> _Difference | None:
    """How a question dose differs from one source dose, most telling difference first; None when consistent."""
    asked_low, asked_high = asked.quantities()
    source_low, source_high = source.quantities()
    if asked_low.dimensionality != source_low.dimensionality:
        if asked.basis != source.basis:
            return _Difference(
                4,
                FlagCode.DOSE_UNIT_MISMATCH,
                f"The basis differs: {_basis_words(asked.basis)} in the question, {_basis_words(source.basis)} in the guideline.",
            )
        return _Difference(4, FlagCode.DOSE_UNIT_MISMATCH, f"The units differ ({asked.unit} vs {source.unit}).")
    low = float(asked_low.to(source_low.units).magnitude)
    high = float(asked_high.to(source_low.units).magnitude)
    lo, hi = float(source_low.magnitude), float(source_high.magnitude)
    if not (lo * (1 - 1e-9) <= low and high <= hi * (1 + 1e-9)):
        nearest = lo if abs(math.log(low / lo)) <= abs(math.log(low / hi)) else hi
        ratio = low / nearest
        distance = abs(math.log10(ratio))
        power = round(math.log10(ratio))
        if abs(power) in _TENFOLD_POWERS and abs(ratio / 10**power - 1) < 1e-6:
            size = f"{10 ** abs(power):,} times {'larger' if power > 0 else 'smaller'}"
            if asked.unit != source.unit:
                detail = f"That is {size} than the guideline dose: a unit slip ({asked.unit} vs {source.unit})."
                return _Difference(3, FlagCode.DOSE_UNIT_MISMATCH, detail, distance)
            return _Difference(
                3, FlagCode.DOSE_MISMATCH, f"That is {size} than the guideline dose (a decimal-point slip?).", distance
            )
        return _Difference(3, FlagCode.DOSE_MISMATCH, "The amount differs.", distance)
    if asked.frequency is not None and asked.frequency != _source_frequency(source):
        given = _source_frequency(source) or "without a repeating schedule"
        return _Difference(
            1,
            FlagCode.DOSE_FREQUENCY_MISMATCH,
            f"The frequency differs: {asked.frequency} in the question, {given} in the guideline.",
        )
    course = course_difference(asked, source)
    if course is not None:
        return _Difference(1, FlagCode.DOSE_FREQUENCY_MISMATCH, course)
    asked_route, source_route = route_of(asked), route_of(source)
    if asked_route is not None and source_route is not None and asked_route != source_route:
        implied = "" if source.route else f" ({source.drug or 'the drug'} is given {adverb(source_route)})"
        return _Difference(
            2,
            FlagCode.DOSE_MISMATCH,
            f"The route differs: {asked_route} in the question, {source_route} in the guideline{implied}.",
        )
    return None


def _source_frequency(source: Dose) -> str | None:
    if source.frequency is not None:
        return source.frequency
    return "as a single dose" if "single dose" in source.course else None


def _basis_words(basis: str | None) -> str:
    return {"kg": "per kg of body weight", "m2": "per m² of body-surface area"}.get(basis or "", "a fixed dose")
