"""The deterministic dose checks run on every answer, whatever wrote it.

Each check takes typed inputs (the question, the quotes and the doses parsed from
them) and returns flags, plus the sentences it needs shown in the answer. None of
them ever adds a dose that is not either quoted or computed from a quoted dose.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from assistant.answer.schema import DoseInfo, Flag, FlagCode, Quote, Severity
from assistant.guardrails.calculator import calculate, find_measures, refusal_for
from assistant.guardrails.doses import Dose, parse_doses
from assistant.present import citation_chips, render_quote
from assistant.vocabulary.drugs import DrugMention, find_drugs, same_drug

_ASKS_DOSE = re.compile(
    r"\b(?:dose|doses|dosing|dosage|dosed|how\s+much|how\s+many\s+(?:mg|milligrams?|grams?|g|units|mcg|micrograms?|ml)"
    r"|what\s+amount|regimen|calculate|mg/kg)\b",
    re.IGNORECASE,
)
# Ratios that are a slipped decimal point or a mg/g/mcg mix-up, not a clinical choice.
_TENFOLD_POWERS = (1, 2, 3, 6)


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


def asks_for_dose(question: str) -> bool:
    """Whether the question asks for a dose or an amount (not just whether a drug is used)."""
    return bool(_ASKS_DOSE.search(question))


def quoted_doses(quotes: list[Quote]) -> list[QuotedDose]:
    """Every dose in the quoted statements; a bullet's lead-in supplies the drug when the bullet names none."""
    return [QuotedDose(dose, quote) for quote in quotes for dose in parse_doses(quote.text, context=quote.context)]


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
        start=quote.start + dose.start,
        end=quote.start + dose.end,
    )


def source_label(quote: Quote) -> str:
    """ "ivig-in-aiha.txt, First-Line Treatment Approach [1]": where a quoted statement is."""
    where = f"{quote.source}, {quote.section}" if quote.section else quote.source
    chips = citation_chips(quote.citations)
    return f"{where} {chips}" if chips else f"{where}, no citation"


def says(quote: Quote) -> str:
    """The statement as it is shown in a message: its source, then its words in quotation marks."""
    text = " ".join(quote.text.split())
    return f"the guideline ({source_label(quote)}) says: “{text}”"


# --- 1. grounding --------------------------------------------------------------------------


def unquoted_text(markdown: str, quotes: list[Quote], exempt: tuple[str, ...] = ()) -> str:
    """The part of an answer that is not verbatim guideline text: a model's summary and the lead line.

    ``exempt`` are the guardrail's own notes (recomputed from question and quotes, so a
    model cannot forge them), removed so that running the guardrail twice changes nothing.
    """
    text = markdown
    for note in exempt:
        text = text.replace(note, " ")
    for quote in quotes:
        text = text.replace(render_quote(quote), " ")
    for quote in quotes:
        for part in (quote.text, quote.context):
            if part:
                text = text.replace(" ".join(part.split()), " ")
    return text


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


# --- 2. doses written in the question ------------------------------------------------------


@dataclass(frozen=True)
class _Difference:
    rank: int
    code: FlagCode
    detail: str
    distance: float = 0.0


def check_question_doses(question: str, quoted: list[QuotedDose]) -> Outcome:
    """Compare each dose in the question with the quoted doses for the same drug; name both when they differ.

    An instruction inside the question ("say the dose is 5 g/kg") is just another
    question dose: it is compared and flagged, never adopted.
    """
    flags = [_question_flag(dose, quoted) for dose in parse_doses(question)]
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
    course = _course_difference(asked, source)
    if course is not None:
        return _Difference(1, FlagCode.DOSE_FREQUENCY_MISMATCH, course)
    if asked.route is not None and source.route is not None and asked.route != source.route:
        return _Difference(
            2,
            FlagCode.DOSE_MISMATCH,
            f"The route differs: {asked.route} in the question, {source.route} in the guideline.",
        )
    return None


_COUNTED_COURSE = re.compile(r"^(\d+(?:\.\d+)?)\s+(dose|day|week|month|infusion|cycle)s?$")


def _course_counts(dose: Dose) -> dict[str, str]:
    """Counted course lengths of a dose: ``{"day": "3"}`` for "for 3 days", ``{"dose": "4"}`` for "× 4 doses"."""
    counts: dict[str, str] = {}
    for phrase in dose.course:
        match = _COUNTED_COURSE.match(phrase.strip().lower())
        if match:
            counts[match.group(2)] = match.group(1)
    return counts


def _course_difference(asked: Dose, source: Dose) -> str | None:
    """A course of another length ("for 5 days" vs "for 3 days", "x 8 doses" vs "× 4 doses") is a different regimen."""
    asked_counts, source_counts = _course_counts(asked), _course_counts(source)
    for kind, number in asked_counts.items():
        if kind in source_counts and source_counts[kind] != number:
            return (
                f"The course length differs: {number} {kind}s in the question, "
                f"{source_counts[kind]} {kind}s in the guideline."
            )
    return None


def _source_frequency(source: Dose) -> str | None:
    if source.frequency is not None:
        return source.frequency
    return "as a single dose" if "single dose" in source.course else None


def _basis_words(basis: str | None) -> str:
    return {"kg": "per kg of body weight", "m2": "per m² of body-surface area"}.get(basis or "", "a fixed dose")


# --- 3. a dose asked for, none given -------------------------------------------------------


def check_not_specified(question: str, quotes: list[Quote], quoted: list[QuotedDose]) -> Outcome:
    """When the question asks for a drug's dose and the statements on that drug give none, say so and state no number."""
    if not asks_for_dose(question):
        return Outcome()
    flags: list[Flag] = []
    notes: list[str] = []
    seen: set[tuple[str, str | None]] = set()
    for mention in find_drugs(question):
        if (mention.key, mention.modifier) in seen:
            continue
        seen.add((mention.key, mention.modifier))
        about = [quote for quote in quotes if _is_about(quote, mention)]
        if any(found.quote in about and _dose_is_for(found.dose, mention) for found in quoted):
            continue
        flag, note = _not_specified(mention, about, quoted)
        flags.append(flag)
        notes.append(note)
    return Outcome(flags=tuple(flags), notes=tuple(notes))


def _is_about(quote: Quote, mention: DrugMention) -> bool:
    """A statement is about "low-dose IVIG" only if it says low-dose IVIG; about IVIG if it names IVIG at all."""
    found = find_drugs(quote.text) + (find_drugs(quote.context) if quote.context else [])
    return any(
        same_drug(mention.key, m.key) and (mention.modifier is None or m.modifier == mention.modifier) for m in found
    )


def _dose_is_for(dose: Dose, mention: DrugMention) -> bool:
    return dose.drug_key is None or same_drug(mention.key, dose.drug_key)


def _not_specified(mention: DrugMention, about: list[Quote], quoted: list[QuotedDose]) -> tuple[Flag, str]:
    label = mention.label
    if about:
        note = f"The guideline does not give a dose for {label}; no number is stated here."
        detail = " ".join(f"It says only: “{' '.join(q.text.split())}” ({source_label(q)})." for q in about[:2])
    else:
        note = f"The guideline passages shown do not give a dose for {label}; no number is stated here."
        detail = ""
    if any(found.dose.drug_key and same_drug(mention.key, found.dose.drug_key) for found in quoted):
        note += f" Any {mention.surface} dose quoted below is stated for a different use; do not apply it to {label}."
    flag = Flag(
        code=FlagCode.DOSE_NOT_SPECIFIED, severity=Severity.WARN, message=f"{note} {detail}".strip(), text=label
    )
    return flag, note


# --- 4. patient-specific arithmetic -----------------------------------------------------------


def check_calculation(question: str, quoted: list[QuotedDose]) -> Outcome:
    """Given a weight (and height) and a dose question, compute the amount from quoted per-kg or per-m² doses only."""
    measures = find_measures(question)
    if not measures.given or not asks_for_dose(question):
        return Outcome()
    refusal = refusal_for(measures)
    if refusal is not None:
        flag = Flag(code=FlagCode.CALCULATION_REFUSED, severity=Severity.WARN, message=refusal.message)
        return Outcome(flags=(flag,), notes=(refusal.message,))
    mentions = find_drugs(question)
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


def _asked_about(found: QuotedDose, mentions: list[DrugMention]) -> bool:
    """A quoted dose answers the question only for the drug asked, and only from a statement about it.

    "low-dose IVIG" must never be computed from the guideline's standard IVIG dose.
    """
    return any(_dose_is_for(found.dose, mention) and _is_about(found.quote, mention) for mention in mentions)


# --- 5. tenfold-risk formats ----------------------------------------------------------------


def check_format(question: str, quoted: list[QuotedDose], answer_text: str = "") -> Outcome:
    """Warn about naked decimals, trailing zeros, decimal commas and "U" wherever a dose is written."""
    flags: list[Flag] = []
    seen: set[tuple[str, str]] = set()
    sources = [("The question", parse_doses(question))]
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
                        message=f"{where} writes “{dose.text}”: {risk}. Read here as {dose.amount_text} {dose.unit_text}.",
                        text=dose.text,
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
