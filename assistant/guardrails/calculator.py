"""Patient-specific dose arithmetic, only ever from a quoted weight- or BSA-based dose.

The calculator never invents a dose: it multiplies a dose the guideline states per
kilogram or per square metre by the weight or body-surface area the question gives,
shows every step, and refuses inputs no patient can have. Body-surface area uses one
named formula, Mosteller (BSA m² = √(height cm × weight kg / 3600)), so the
number can be checked by hand. Arithmetic is exact (``Decimal``) so that the shown
steps and the result always agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from assistant.guardrails.doses import Dose, format_number, normalize
from assistant.guardrails.units import UREG
from assistant.vocabulary.schedules import regimen_words

MIN_WEIGHT_KG = Decimal("0.5")
MAX_WEIGHT_KG = Decimal("350")
MIN_HEIGHT_CM = Decimal("30")
MAX_HEIGHT_CM = Decimal("250")
# The smallest newborns and the largest adults stay inside this range (Mosteller gives ~0.1 to ~3.3 m²
# for the weight and height limits above).
MIN_BSA_M2 = Decimal("0.1")
MAX_BSA_M2 = Decimal("3.5")
BSA_FORMULA = "Mosteller"

# Conversion factors from pint (exact by definition: 1 lb = 0.45359237 kg, 1 in = 2.54 cm).
_LB_IN_KG = Decimal(f"{UREG.Quantity(1, 'pound').to('kilogram').magnitude:.10g}")
_INCH_IN_CM = Decimal(f"{UREG.Quantity(1, 'inch').to('centimeter').magnitude:.10g}")
# A weight converted from pounds is charted to 0.1 kg (a height from feet and inches to 0.1 cm), and the
# arithmetic uses the charted number, so every number shown agrees with the next step.
_CHARTED = Decimal("0.1")
_NUM = r"(\d+(?:[.,]\d+)?)"
# A number written right before kg/lb is a weight; "/kg" (a dose basis) has no number before it.
_WEIGHT = re.compile(
    rf"(?<![\w./]){_NUM}\s*(kg|kgs|kilograms?|kilos?|lbs?|pounds?)(?![a-z/])(?!\s*/\s*m)",
    re.IGNORECASE,
)
_HEIGHT = re.compile(
    rf"(?<![\w./]){_NUM}\s*(cm|centimet(?:er|re)s?|m|met(?:er|re)s?|in|inches)(?![a-z0-9^/])",
    re.IGNORECASE,
)
# A body-surface area stated outright ("BSA 1.8 m²", "body surface area of 1.75 m2").
_BSA = re.compile(
    rf"\b(?:bsa|body[- ]surface(?:[- ]area)?)\s*(?:of|is|=|:)?\s*{_NUM}\s*(?:m2|m\^2|sq\.? ?m)?(?![\w])",
    re.IGNORECASE,
)
_FEET_INCHES = re.compile(
    r"(?<![\w./])(\d)\s*(?:ft|feet|foot|')\s*(?:(\d{1,2}(?:\.\d+)?)\s*(?:in|inches|\"|''))?", re.I
)


@dataclass(frozen=True)
class Measures:
    """Weight and height found in a question, converted to kg and cm, with the text each came from."""

    weight_kg: Decimal | None = None
    height_cm: Decimal | None = None
    weight_text: str | None = None
    height_text: str | None = None
    bsa_m2: Decimal | None = None
    bsa_text: str | None = None

    @property
    def given(self) -> bool:
        return self.weight_kg is not None or self.height_cm is not None or self.bsa_m2 is not None


@dataclass(frozen=True)
class Calculation:
    """The outcome for one dose: the arithmetic (``ok``) or the reason nothing was calculated."""

    ok: bool
    message: str
    implausible: bool = False


def find_measures(question: str) -> Measures:
    """The patient's weight and height as written in the question (first of each), or None."""
    text = normalize(question)
    weight = _WEIGHT.search(text)
    weight_kg = None
    if weight:
        value = _decimal(weight.group(1))
        is_pounds = weight.group(2).lower().startswith(("lb", "pound"))
        weight_kg = value * _LB_IN_KG if value is not None and is_pounds else value
    bsa = _BSA.search(text)
    height_cm, height_text = _height(_BSA.sub(lambda m: " " * len(m.group(0)), text))
    return Measures(
        weight_kg=weight_kg,
        height_cm=height_cm,
        weight_text=question[weight.start() : weight.end()] if weight else None,
        height_text=height_text,
        bsa_m2=_decimal(bsa.group(1)) if bsa else None,
        bsa_text=question[bsa.start() : bsa.end()] if bsa else None,
    )


def mosteller_bsa(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    """Body-surface area in m² by Mosteller, rounded to 2 decimals as BSA is usually charted."""
    bsa = (height_cm * weight_kg / Decimal(3600)).sqrt()
    return bsa.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def refusal_for(measures: Measures) -> Calculation | None:
    """A refusal when a given weight, height or body-surface area is not a plausible patient's, else None."""
    checks = (
        ("weight", measures.weight_kg, measures.weight_text, MIN_WEIGHT_KG, MAX_WEIGHT_KG, "kg"),
        ("height", measures.height_cm, measures.height_text, MIN_HEIGHT_CM, MAX_HEIGHT_CM, "cm"),
        ("body-surface area", measures.bsa_m2, measures.bsa_text, MIN_BSA_M2, MAX_BSA_M2, "m²"),
    )
    for name, value, text, low, high, unit in checks:
        if value is not None and not low <= value <= high:
            return Calculation(
                ok=False,
                implausible=True,
                message=(
                    f"No dose was calculated: the {name} given ({text}) is outside the plausible range "
                    f"{low}–{high} {unit}. Check the number and its unit."
                ),
            )
    return None


def calculate(dose: Dose, measures: Measures, source: str, ceilings: list[Dose] | None = None) -> Calculation:
    """Multiply a quoted per-kg or per-m² dose by the patient's weight or BSA, showing each step.

    ``source`` names where the dose is quoted from (file, section, citations); it is
    repeated in the message because a number without its source must never be shown.
    """
    refusal = refusal_for(measures)
    if refusal is not None:
        return refusal
    name = dose.drug or "the drug"
    if dose.basis is None:
        return Calculation(
            ok=False,
            message=(
                f"The quoted {name} dose ({dose.text}; {source}) is a fixed dose, not per kg or per m², "
                "so it does not depend on the patient's weight and nothing was calculated."
            ),
        )
    if dose.basis == "kg":
        if measures.weight_kg is None:
            return Calculation(
                ok=False, message=f"The quoted {name} dose is per kg; give the patient's weight to calculate it."
            )
        weight = _charted_weight(measures)
        factor, factor_text, steps = weight, f"{_show(weight)} kg", _weight_step(measures)
    elif measures.bsa_m2 is not None:
        factor, factor_text = measures.bsa_m2, f"{_show(measures.bsa_m2)} m²"
        steps = f"Body-surface area as given ({measures.bsa_text}), not recalculated. "
    else:
        if measures.weight_kg is None or measures.height_cm is None:
            return Calculation(
                ok=False,
                message=(
                    f"The quoted {name} dose is per m² of body-surface area; give both the patient's height and weight "
                    f"to calculate it ({BSA_FORMULA} formula)."
                ),
            )
        weight, height = _charted_weight(measures), _charted_height(measures)
        factor = mosteller_bsa(height, weight)
        factor_text = f"{_show(factor)} m²"
        steps = (
            _weight_step(measures)
            + _height_step(measures)
            + f"Body-surface area ({BSA_FORMULA} formula): √({_show(height)} cm × "
            f"{_show(weight)} kg / 3600) = {_show(factor)} m². "
        )
    low = dose.low * factor
    high = dose.high * factor if dose.high is not None else None
    result = f"{_show(low)}" + (f"–{_show(high)}" if high is not None else "")
    per = f"/{dose.per}" if dose.per and dose.per != "dose" else ""
    unit = "units" if dose.unit == "unit" else dose.unit
    basis = "m²" if dose.basis == "m2" else "kg"
    quoted = f"{dose.amount_text.replace('-', '–')} {unit}/{basis}{per}"
    regimen = regimen_text(dose)
    message = (
        f"Calculated for this patient from the quoted {name} dose ({source}): {steps}"
        f"{quoted} × {factor_text} = {result} {unit}{per}{f' ({regimen})' if regimen else ''}. "
        f"{_ceiling_text(name, ceilings or [])} Check this arithmetic before use."
    )
    return Calculation(ok=True, message=message)


def regimen_text(dose: Dose) -> str:
    """Route, schedule and course of a dose in words: "IV, weekly, for 4 doses"."""
    return regimen_words(dose.schedule, dose.course, route=dose.route)


def _ceiling_text(name: str, ceilings: list[Dose]) -> str:
    if not ceilings:
        return f"The guideline text quoted gives no maximum dose for {name}."
    stated = "; ".join(f"“{c.text}”" for c in ceilings)
    return f"The guideline states a maximum for {name}: {stated}; do not exceed it."


def _in_pounds(measures: Measures) -> bool:
    return bool(measures.weight_text and re.search(r"lb|pound", measures.weight_text, re.I))


def _converted_height(measures: Measures) -> bool:
    return bool(measures.height_text and not re.search(r"cm|centim", measures.height_text, re.I))


def _charted_weight(measures: Measures) -> Decimal:
    """The weight the arithmetic uses: as given in kg, or converted from lb and rounded to 0.1 kg."""
    assert measures.weight_kg is not None
    if _in_pounds(measures):
        return measures.weight_kg.quantize(_CHARTED, rounding=ROUND_HALF_UP)
    return measures.weight_kg


def _charted_height(measures: Measures) -> Decimal:
    assert measures.height_cm is not None
    if _converted_height(measures):
        return measures.height_cm.quantize(_CHARTED, rounding=ROUND_HALF_UP)
    return measures.height_cm


def _weight_step(measures: Measures) -> str:
    if _in_pounds(measures):
        return f"{measures.weight_text} = {_show(_charted_weight(measures))} kg (1 lb = {_LB_IN_KG} kg); "
    return ""


def _height_step(measures: Measures) -> str:
    if _converted_height(measures):
        return f"{measures.height_text} = {_show(_charted_height(measures))} cm (1 in = {_INCH_IN_CM} cm); "
    return ""


def _height(text: str) -> tuple[Decimal | None, str | None]:
    feet = _FEET_INCHES.search(text)
    if feet:
        inches = Decimal(feet.group(1)) * 12 + (_decimal(feet.group(2)) or Decimal(0))
        return inches * _INCH_IN_CM, text[feet.start() : feet.end()].strip()
    for match in _HEIGHT.finditer(text):
        value = _decimal(match.group(1))
        unit = match.group(2).lower()
        if value is None:
            continue
        if unit.startswith("c"):
            return value, match.group(0)
        if unit.startswith("i"):
            return value * _INCH_IN_CM, match.group(0)
        # A bare "m" is metres only when the number looks like a height in metres.
        if value <= 3:
            return value * 100, match.group(0)
    return None, None


def _decimal(raw: str | None) -> Decimal | None:
    if not raw:
        return None
    try:
        return Decimal(raw.replace(",", "."))
    except InvalidOperation:
        return None


def _show(value: Decimal | None) -> str:
    """At most 2 decimals for display; the arithmetic itself stays exact."""
    if value is None:
        return "?"
    if value != value.quantize(Decimal("0.01")):
        value = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return format_number(value)
