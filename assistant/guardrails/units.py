"""Units for doses: one pint registry with the pharmacy units defined explicitly.

Body weight and body surface get dimensions of their own. Left as plain ``kg``
and ``m**2``, pint would cancel ``mg/kg`` to a dimensionless 1e-6, and a dose per
kilogram of patient would compare equal to a mass fraction; a basis mismatch
(mg/kg vs mg/m²) must instead be a dimension mismatch that cannot be converted.
"""

from __future__ import annotations

from decimal import Decimal

import pint

from assistant.vocabulary.units import PINT_UNITS

UREG: pint.UnitRegistry = pint.UnitRegistry()
# "unit" and "IU" are biological activity. pint's own "U" is the enzyme unit and
# "u" the atomic mass unit, so the pharmacy meaning is defined under new names.
UREG.define("pharmacy_unit = [drug_activity]")
UREG.define("milliequivalent = [charge_equivalent] = mEq")
UREG.define("kg_body_weight = [body_weight]")
UREG.define("m2_body_surface = [body_surface]")

# Canonical unit symbol (what a Dose stores) -> pint unit expression: PINT_UNITS, from the vocabulary.
PINT_BASIS: dict[str, str] = {"kg": "kg_body_weight", "m2": "m2_body_surface"}


def quantity(amount: Decimal, unit: str, basis: str | None) -> pint.Quantity:
    """``amount unit [/ basis]`` as a pint quantity (basis in body-weight or body-surface units)."""
    expression = PINT_UNITS[unit] + (f" / {PINT_BASIS[basis]}" if basis else "")
    return UREG.Quantity(float(amount), expression)


def ratio(a: pint.Quantity, b: pint.Quantity) -> float | None:
    """``a / b`` as a pure number, or None when the two cannot be converted (basis or kind differs)."""
    if a.dimensionality != b.dimensionality or b.magnitude == 0:
        return None
    return float(a.to(b.units).magnitude / b.magnitude)
