"""The ``Dose`` value and its canonical text: what a parsed dose means and how it is written back."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pint

from assistant.guardrails.units import quantity
from assistant.vocabulary.schedules import course_words


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
    parts.extend(course_words(phrase) for phrase in dose.course)
    return " ".join(parts)
