"""Dose parsing: find dose expressions in any text and parse them into typed ``Dose`` values.

``parse_doses`` anchors every dose on the grammar's *core* pattern, reads the tail
of modifiers after it, and attributes each dose to the nearest drug named in its
sentence. Everything here is deterministic and never raises on any input: the
guardrail must run on whatever a model wrote.

The patterns and word tables live in ``assistant.guardrails.dose_grammar`` and the
``Dose`` value and its formatting in ``assistant.guardrails.dose_value``; the public
names are re-exported here so ``from assistant.guardrails.doses import ...`` keeps working.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation

from assistant.guardrails.clean import Cleaned, clean
from assistant.guardrails.dose_grammar import (
    CEILING_BEFORE,
    CORE,
    LARGEST,
    LOOSE_MODIFIERS,
    MASS_IN_G,
    MODIFIERS,
    PER_BODY_ONLY,
    PER_NAMES,
    SEPARATOR,
    SMALLEST,
    THOUSANDS,
    TOTAL_BEFORE,
    UNIT_NAMES,
    normalize,
)
from assistant.guardrails.dose_value import Dose, format_dose, format_number
from assistant.vocabulary.drugs import DrugMention, find_drugs

__all__ = ["Dose", "format_dose", "format_number", "normalize", "parse_doses", "parse_question_doses"]

# A number right after a laboratory test and a comparison ("creatinine clearance is below 30", "INR of 2") is a
# threshold, not a dose.
_LAB_BEFORE = re.compile(
    r"(?:clearance|crcl|e?gfr|inr|platelets?(?:\s+counts?)?|levels?|concentrations?|trough|serum\s+\w+|creatinine|"
    r"haemoglobin|hemoglobin|hb|potassium|sodium|glucose)\b[^.;,\d]{0,25}?"
    r"(?:<|>|≤|≥|=|:|below|above|under|less\s+than|greater\s+than|more\s+than|at\s+least|exceeding|of|is)\s*$",
    re.IGNORECASE,
)
# "90 mL/min/1.73 m2": a glomerular filtration rate, never a dose.
_PER_BODY_SURFACE_AFTER = re.compile(r"\s*/\s*1[.,]73")
# Loose reading of a question: these modifiers may appear later in its clause, not only right after the amount.
_LOOSE_END = re.compile(r"[.!?;\n]")


# --- parsing ------------------------------------------------------------------------


def parse_doses(text: str, context: str | None = None) -> list[Dose]:
    """Every dose written in ``text``, in order, each with the nearest drug name in its sentence.

    ``context`` is a lead-in sentence (for a bullet item): when the text itself names
    no drug, a single drug named there is used. Never raises.
    """
    return [dose for dose, _, _ in _parse(text, context)]


def parse_question_doses(text: str) -> list[Dose]:
    """Doses as a question writes them: a route or course later in the same clause belongs to the dose.

    "IVIG 1 g/kg, can I give it orally for 30 days?" states an oral 30-day course even
    though the words do not follow the amount directly; a question must not evade the
    regimen checks by word order.
    """
    parsed = _parse(text, None)
    if not parsed:
        return []
    cleaned = clean(text) if isinstance(text, str) else None
    if cleaned is None:
        return []
    norm = normalize(cleaned.text)
    loose: list[Dose] = []
    for index, (dose, _, end) in enumerate(parsed):
        stop_at = parsed[index + 1][1] if index + 1 < len(parsed) else len(norm)
        stop = _LOOSE_END.search(norm, end, stop_at)
        loose.append(_read_loose(dose, norm, end, stop.start() if stop else stop_at))
    return loose


def _parse(text: str, context: str | None) -> list[tuple[Dose, int, int]]:
    """Doses with their start and end in the cleaned text (where loose reading continues)."""
    if not isinstance(text, str) or not text:
        return []
    found = _read(text, clean(text))
    if _OVERRIDE in text:
        # Read as stored too: an override before "10 g/kg" displays no dose, but the amount is still there.
        covered = [(dose.start, dose.end) for dose, _, _ in found]
        for extra in _read(text, clean(text, displayed=False)):
            if not any(extra[0].start < end and start < extra[0].end for start, end in covered):
                found.append(extra)
        found.sort(key=lambda item: item[0].start)
    attached = _attach_drugs(text, [dose for dose, _, _ in found], context)
    return [(dose, start, end) for dose, (_, start, end) in zip(attached, found, strict=True)]


_OVERRIDE = "\u202e"


def _read(text: str, cleaned: Cleaned) -> list[tuple[Dose, int, int]]:
    """Every dose core in one cleaned reading of ``text``, with its tail."""
    norm = normalize(cleaned.text)
    found: list[tuple[Dose, int, int]] = []
    position = 0
    while (match := CORE.search(norm, position)) is not None:
        result = _dose_from_core(text, cleaned, norm, match)
        position = match.end()
        if result is not None:
            found.append(result)
            position = max(position, result[2])
    return found


def _read_loose(dose: Dose, norm: str, start: int, stop: int) -> Dose:
    """Apply the route, schedule and course modifiers found anywhere in ``norm[start:stop]``."""
    fields: dict = {"per": dose.per, "route": dose.route, "schedule": dose.schedule, "course": dose.course}
    fields["ceiling"] = dose.ceiling
    for at in range(start, stop):
        if not norm[at].isalnum() or (at > 0 and norm[at - 1].isalnum()):
            continue
        for pattern, apply in LOOSE_MODIFIERS:
            found = pattern.match(norm, at, stop)
            if found and found.end() > at and apply(fields, found):
                break
    return replace(dose, **fields)


def _dose_from_core(text: str, cleaned: Cleaned, norm: str, match: re.Match[str]) -> tuple[Dose, int, int] | None:
    unit = UNIT_NAMES.get(match.group("unit").lower()) or PER_BODY_ONLY.get(match.group("unit").lower())
    low = _number(match.group("low"))
    high = _number(match.group("high")) if match.group("high") else None
    if unit is None or low is None or (match.group("high") and high is None):
        return None
    start = match.start()
    if match.group("basis1") and _basis(match.group("basis1")) != _basis(match.group("basis")):
        return None  # "3 mg/kg to 6 mg/m2" is no range
    unit1 = UNIT_NAMES.get((match.group("unit1") or "").lower())
    if unit1 is not None and unit1 != unit:
        if unit1 not in MASS_IN_G or unit not in MASS_IN_G:
            return None
        low = low * MASS_IN_G[unit1] / MASS_IN_G[unit]
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
    if _LAB_BEFORE.search(before) or _PER_BODY_SURFACE_AFTER.match(norm, match.end()):
        return None
    if ceiling := CEILING_BEFORE.search(before):
        fields["ceiling"] = True
        start = start - len(before) + ceiling.start()
    elif fields["per"] is None and TOTAL_BEFORE.search(before):
        fields["per"] = "course"
    end = _read_tail(norm, match.end(), fields)
    first, last = cleaned.span(start, end)
    risks = (*cleaned.risks_in(first, last), *_risks(match))
    dose = Dose(text=text[first:last], start=first, end=last, low=low, high=high, unit=unit, risks=risks, **fields)
    return dose, start, end


def _read_tail(norm: str, position: int, fields: dict) -> int:
    """Consume modifiers after the core; returns where the dose text ends."""
    end = position
    while True:
        gap = SEPARATOR.match(norm, end)
        at = gap.end() if gap else end
        for pattern, apply in MODIFIERS:
            found = pattern.match(norm, at)
            if found and found.end() > at and apply(fields, found):
                end = found.end()
                break
        else:
            return end


def _number(raw: str | None) -> Decimal | None:
    if not raw:
        return None
    if re.fullmatch(THOUSANDS, raw):
        cleaned = re.sub(r"[, '\u2019]", "", raw)
    else:
        cleaned = raw.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    # Outside these bounds a number is not a dose (and would overflow float arithmetic downstream).
    return value if value.is_finite() and SMALLEST <= value <= LARGEST else None


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
    word = PER_NAMES.get(word, word)
    word = PER_NAMES.get(word.rstrip("s"), word.rstrip("s"))
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
    if match.group("unit").lower() in ("gr", "grain", "grains"):
        risks.append("“gr” is the apothecary grain (64.8 mg), easily confused with gram (g); read here as grains")
    if match.group("unit") in ("u", "U"):
        risks.append("abbreviation “U” for units (can be misread as 0 or 4; write “units”)")
    return tuple(risks)


# --- drug attribution --------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?](?:\s+(?=[A-Z(\"“'])|\s*$)|\n")
# Where one clause of a sentence ends and the next (often about another drug) begins.
_CLAUSE_BREAK = re.compile(
    r";|\s(?:plus|then|followed\s+by|while|unless|if|when|whereas|but)\s|,\s+(?:and|or)\s", re.IGNORECASE
)


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
        c_lo, c_hi = _clause(text, lo, hi, dose)
        in_clause = [m for m in nearby if m.start >= c_lo and m.end <= c_hi]
        mention = min(in_clause or nearby, key=lambda m: _distance(m, dose), default=fallback)
        if mention is not None:
            dose = replace(dose, drug=mention.surface, drug_key=mention.key)
        attached.append(dose)
    return attached


def _distance(mention: DrugMention, dose: Dose) -> tuple[int, int]:
    """Drug names before a dose ("prednisone 1 mg/kg") win over names after it at equal distance."""
    if mention.end <= dose.start:
        return (dose.start - mention.end, 0)
    return (2 * (mention.start - dose.end) + 1, 1)


def _clause(text: str, lo: int, hi: int, dose: Dose) -> tuple[int, int]:
    """The clause of the sentence ``text[lo:hi]`` the dose is written in ("... plus clarithromycin 500 mg")."""
    start, end = lo, hi
    for match in _CLAUSE_BREAK.finditer(text, lo, min(hi, len(text))):
        if match.end() <= dose.start:
            start = match.end()
        elif match.start() >= dose.end:
            end = match.start()
            break
    return start, end


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
