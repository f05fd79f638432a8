"""Units of a dose: every spelling a text may use, its canonical unit, and the patterns derived from them.

One table (:data:`UNIT_NAMES`, spelling -> canonical unit) is the only place a
dose unit is spelled. The dose grammar's unit alternation, the cleaner's
"a unit follows" look-ahead, the "states an amount" pattern used by selection
and the dose lookup (:data:`AMOUNT`), and the word list the reference parser
uses to tell a quantity from a citation are all derived from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

# Spelling (lower case) -> canonical unit (what a parsed Dose stores).
UNIT_NAMES: dict[str, str] = {
    "microgram": "mcg",
    "micrograms": "mcg",
    "mcg": "mcg",
    "ug": "mcg",
    "\u00b5g": "mcg",  # micro sign
    "\u03bcg": "mcg",  # Greek mu
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
    # The apothecary grain (64.8 mg): still on some old labels, and the classic gram/grain mix-up.
    "gr": "gr",
    "grain": "gr",
    "grains": "gr",
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
# A bare "u" is read as "units" only inside a dose the grammar anchors (digits, then the unit);
# anywhere else ("ten u", "5 u" in a table) it is too ambiguous to mark a number as an amount.
_ANCHORED_ONLY = frozenset({"u"})

# Canonical unit -> the pint unit it converts as (see ``assistant.guardrails.units``).
PINT_UNITS: dict[str, str] = {
    "g": "gram",
    "mg": "milligram",
    "mcg": "microgram",
    "ng": "nanogram",
    "gr": "grain",
    "unit": "pharmacy_unit",
    # IU and "units" are treated as the same measure of activity: guidelines use
    # both for insulin, heparin and factor products.
    "IU": "pharmacy_unit",
    "mL": "milliliter",
    "mmol": "millimole",
    "mEq": "milliequivalent",
}
# Units that are a dose only when written per body weight or surface ("1 kg/kg"): never a dose on their
# own ("70 kg" is a weight), but an impossible amount the guardrail must read and block, not skip.
PER_BODY_ONLY: dict[str, str] = {"kg": "kg", "kilogram": "kg", "kilograms": "kg", "l": "L", "litre": "L", "liter": "L"}
PINT_UNITS |= {"kg": "kilogram", "L": "liter"}
# Canonical mass units -> grams (a mixed range "500 mg - 1 g" is brought to one unit).
MASS_IN_G: dict[str, Decimal] = {
    "g": Decimal(1),
    "mg": Decimal("0.001"),
    "mcg": Decimal("0.000001"),
    "ng": Decimal("1e-9"),
    "gr": Decimal("0.06479891"),
    "kg": Decimal(1000),
}
# At or above these per kg of body weight (or per m²) no medicine is a dose: the amount is impossible.
IMPOSSIBLE_PER_KG: dict[str, float] = {"gram": 100.0, "milliliter": 1000.0}
# Units a dose is given *per* (body weight, body surface) and units of time: not dose units,
# but a number after them is still a quantity, never a citation.
BASIS_WORDS = frozenset({"kg", "m2"})
TIME_WORDS = frozenset({"h", "hr", "min"})
OTHER_UNIT_WORDS = frozenset({"l", "mol"})


def alternation(spellings: Iterable[str] | None = None) -> str:
    """A regex alternation of unit spellings, longest first (so "mcg" is tried before "g")."""
    chosen = list(UNIT_NAMES if spellings is None else spellings)
    return "|".join(re.escape(s) for s in sorted(chosen, key=lambda s: (-len(s), s)))


# Every spelling, for the dose grammar (which reads text with µ already mapped to "u").
UNIT = rf"(?:{alternation()})(?![a-z])"
# The spellings that mark a number as an amount wherever they follow it.
_FREE = [s for s in UNIT_NAMES if s not in _ANCHORED_ONLY]
# "a dose unit follows": used by the cleaner before rewriting "ten grams" or "1O mg".
UNIT_AHEAD = rf"(?=\s*(?:{alternation(_FREE)})(?![a-z]))"
# A number followed by a dose unit: a statement that states an amount.
AMOUNT = re.compile(rf"\d\s*(?:{alternation(_FREE)})\b", re.IGNORECASE)
# Every word after which a bare number is a quantity (dose, basis, time and other units).
UNIT_WORDS = frozenset(UNIT_NAMES) | BASIS_WORDS | TIME_WORDS | OTHER_UNIT_WORDS


def canonical_unit(spelling: str) -> str | None:
    """ "Micrograms" -> "mcg"; None for a word that is no dose unit."""
    return UNIT_NAMES.get(spelling.lower())
