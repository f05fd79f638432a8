"""The deterministic dose checks run on every answer, whatever wrote it.

Each check takes typed inputs (the question as read once, :class:`~assistant.guardrails.asked.Asked`,
the quotes and the doses parsed from them) and returns flags, plus the sentences it needs shown in the answer. None of
them ever adds a dose that is not either quoted or computed from a quoted dose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from assistant.answer.labels import citation_chips, shown_section
from assistant.answer.schema import DoseInfo, Flag, FlagCode, Quote, Risk, Severity
from assistant.guardrails.asked import Asked
from assistant.guardrails.calculator import calculate, refusal_for
from assistant.guardrails.clean import hidden_characters
from assistant.guardrails.doses import Dose, parse_doses
from assistant.vocabulary.drugs import DrugMention, find_drugs, same_drug


@dataclass(frozen=True)
class QuotedDose:
    """A dose found in a quoted statement, with the quote it came from."""

    dose: Dose
    quote: Quote

    @property
    def cited(self) -> bool:
        return bool(self.quote.citations)


@dataclass(frozen=True)
class Outcome:
    """What one check found: flags for the schema, notes for the Markdown answer."""

    flags: tuple[Flag, ...] = ()
    notes: tuple[str, ...] = ()
    lead: str | None = None  # our own line to put above the quotes (a dose stated for another population)


def quoted_doses(quotes: list[Quote]) -> list[QuotedDose]:
    """Every dose in the quoted statements; a bullet's lead-in supplies the drug when the bullet names none."""
    return [QuotedDose(dose, quote) for quote in quotes for dose in parse_doses(quote.text, context=quote.context)]


def is_about(quote: Quote, mention: DrugMention) -> bool:
    """A statement is about "low-dose IVIG" only if it says low-dose IVIG; about IVIG if it names IVIG at all."""
    found = find_drugs(quote.text) + (find_drugs(quote.context) if quote.context else [])
    wanted = _MODIFIER_KIND.get(mention.modifier or "", mention.modifier)
    return any(
        same_drug(mention.key, m.key)
        and (mention.modifier is None or _MODIFIER_KIND.get(m.modifier or "", m.modifier) == wanted)
        for m in found
    )


# "pulse-dose steroid" is what "high-dose corticosteroids (methylprednisolone 1g IV daily)" gives.
_MODIFIER_KIND = {"pulse": "high", "full": "standard", "reduced": "low"}


def dose_is_for(dose: Dose, mention: DrugMention) -> bool:
    """A dose with no drug named near it may be for any drug its statement is about."""
    return dose.drug_key is None or same_drug(mention.key, dose.drug_key)


def dose_info(found: QuotedDose) -> DoseInfo:
    """A quoted dose in the answer schema, with offsets into the source file."""
    dose, quote = found.dose, found.quote
    amount: float | list[float] = float(dose.low) if dose.high is None else [float(dose.low), float(dose.high)]
    course = list(dose.course)
    if dose.ceiling:
        # The schema has no field for a maximum; it is marked in `course` (documented in the README).
        course.insert(0, "maximum")
    return DoseInfo(
        text=dose.text,
        drug=dose.drug,
        amount=amount,
        unit="units" if dose.unit == "unit" else dose.unit,
        basis=dose.basis,
        per=dose.per,
        route=dose.route,
        schedule=dose.schedule,
        course="; ".join(course) or None,
        citations=list(quote.citations),
        source=quote.source,
        title=quote.title,
        section=quote.section,
        page=quote.page,
        page_label=quote.page_label,
        start=quote.start + dose.start,
        end=quote.start + dose.end,
    )


def source_label(quote: Quote) -> str:
    """ "ivig-in-aiha.txt, First-Line Treatment Approach [1]": where a quoted statement is."""
    # A section heading that holds a dose (a PDF line read as a heading) would put a number in our own words.
    section = shown_section(quote.section)
    where = f"{quote.source}, {section}" if section else quote.source
    chips = citation_chips(quote.citations)
    return f"{where} {chips}" if chips else f"{where}, no citation"


def says(quote: Quote) -> str:
    """The statement as it is shown in a message: its source, then its words in quotation marks."""
    text = " ".join(quote.text.split())
    return f"the guideline ({source_label(quote)}) says: “{text}”"


# --- 1. grounding --------------------------------------------------------------------------


def supports(source: Dose, claimed: Dose) -> bool:
    """True when the source dose states everything the claimed dose says: amount, basis, drug, timing.

    The claim may leave details out; it may not add or change any.
    """
    if source.ceiling != claimed.ceiling or not _same_amount(source, claimed):
        return False
    if claimed.drug_key and source.drug_key and not same_drug(claimed.drug_key, source.drug_key):
        return False
    if claimed.frequency is not None and claimed.frequency != source.frequency:
        return False
    if claimed.route is not None and claimed.route != source.route:
        return False
    # "taper" is covered by "taper over 6-12 months": less detail, nothing changed.
    return all(any(s == c or s.startswith(c + " ") for s in source.course) for c in claimed.course)


def check_grounding(text: str, quoted: list[QuotedDose]) -> Outcome:
    """No span, no claim: every dose in the non-quoted answer text must be stated in a cited quote."""
    sources = [found.dose for found in quoted if found.cited]
    flags = []
    for claimed in parse_doses(text):
        if any(supports(source, claimed) for source in sources):
            continue
        name = f"{claimed.drug} " if claimed.drug else ""
        flags.append(
            Flag(
                code=FlagCode.DOSE_NOT_IN_SOURCE,
                severity=Severity.BLOCK,
                message=(
                    f"The generated text states {name}{claimed.text}, which is not a dose in the cited guideline "
                    "statements; the generated text was withheld and only the verbatim quotes are shown."
                ),
                text=claimed.text,
            )
        )
    return Outcome(flags=tuple(flags))


# --- 4. patient-specific arithmetic -----------------------------------------------------------


def check_calculation(asked: Asked, quoted: list[QuotedDose]) -> Outcome:
    """Given a weight (and height) and a dose question, compute the amount from quoted per-kg or per-m² doses only."""
    measures = asked.measures
    if not measures.given or not asked.wants_dose:
        return Outcome()
    refusal = refusal_for(measures)
    if refusal is not None:
        flag = Flag(code=FlagCode.CALCULATION_REFUSED, severity=Severity.WARN, message=refusal.message)
        return Outcome(flags=(flag,), notes=(refusal.message,))
    mentions = asked.mentions
    chosen = [f for f in quoted if not f.dose.ceiling and (not mentions or _asked_about(f, mentions))]
    weight_based = [f for f in chosen if f.dose.basis is not None]
    flags: list[Flag] = []
    notes: list[str] = []
    seen: set[tuple[object, ...]] = set()
    for found in weight_based or chosen:
        if found.dose.semantics() in seen:
            continue
        seen.add(found.dose.semantics())
        ceilings = [f.dose for f in quoted if f.dose.ceiling and same_drug(f.dose.drug_key, found.dose.drug_key)]
        result = calculate(found.dose, measures, source_label(found.quote), ceilings)
        code = FlagCode.CALCULATION if result.ok else FlagCode.CALCULATION_REFUSED
        flags.append(Flag(code=code, severity=Severity.INFO, message=result.message, text=found.dose.text))
        notes.append(result.message)
    return Outcome(flags=tuple(flags), notes=tuple(notes))


def _asked_about(found: QuotedDose, mentions: tuple[DrugMention, ...]) -> bool:
    """A quoted dose answers the question only for the drug asked, and only from a statement about it.

    "low-dose IVIG" must never be computed from the guideline's standard IVIG dose.
    """
    return any(dose_is_for(found.dose, mention) and is_about(found.quote, mention) for mention in mentions)


# --- 5. tenfold-risk formats ----------------------------------------------------------------


def check_format(asked: Asked, quoted: list[QuotedDose], answer_text: str = "") -> Outcome:
    """Warn about naked decimals, trailing zeros, decimal commas and "U" wherever a dose is written."""
    flags: list[Flag] = []
    seen: set[tuple[str, str]] = set()
    sources = [("The question", list(asked.doses))]
    sources.append(("The guideline text", [found.dose for found in quoted]))
    sources.append(("The generated text", parse_doses(answer_text)))
    for where, doses in sources:
        for dose in doses:
            for risk in dose.risks:
                if (dose.text, risk) in seen:
                    continue
                seen.add((dose.text, risk))
                flags.append(
                    Flag(
                        code=FlagCode.DOSE_FORMAT_RISK,
                        severity=Severity.WARN,
                        risk=Risk.FORMAT,
                        message=f"{where} writes “{dose.text}”: {risk}. Read here as {dose.amount_text} {dose.unit_text}.",
                        text=dose.text,
                    )
                )
    for where, text in (("The question", asked.text), ("The generated text", answer_text)):
        if count := hidden_characters(text):
            flags.append(
                Flag(
                    code=FlagCode.DOSE_FORMAT_RISK,
                    severity=Severity.WARN,
                    risk=Risk.FORMAT,
                    message=(
                        f"{where} contains {count} invisible or bidirectional control character(s), which can make "
                        "text display differently from what it says; they were removed before the doses were read."
                    ),
                )
            )
    return Outcome(flags=tuple(flags))


def _same_amount(a: Dose, b: Dose) -> bool:
    """Equal amount, unit kind and basis after conversion (1000 mg == 1 g; mg/kg != mg/m²)."""
    a_low, a_high = a.quantities()
    b_low, b_high = b.quantities()
    if a_low.dimensionality != b_low.dimensionality or (a.high is None) != (b.high is None):
        return False
    return all(
        math.isclose(float(x.to(y.units).magnitude), float(y.magnitude), rel_tol=1e-9)
        for x, y in ((a_low, b_low), (a_high, b_high))
    )
