"""Whether the guideline gives a dose for the drug asked about: "not specified" only when that is true.

Saying "the guideline gives no dose for IVIG" when it states 1 g/kg is as wrong as
inventing a dose. The decision therefore depends on every statement the guardrail
is given: the quotes shown *and* any further statements the chain passes (for
example every statement in the library that names the drug). When the quotes miss
the statement that states the dose but a passed statement has it, that statement
is added to the quotes, verbatim and cited, instead of claiming there is none.
Question words are matched with typos allowed ("rituxamab" is rituximab), and the
question's own numbers (a weight of 70 kg) never take part in choosing a statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.answer.schema import Flag, FlagCode, Quote, Severity
from assistant.guardrails.asked import Asked
from assistant.guardrails.checks import (
    Outcome,
    QuotedDose,
    dose_is_for,
    is_about,
    quoted_doses,
    source_label,
)
from assistant.vocabulary.drugs import DrugMention, find_drugs, same_drug

# At most this many statements are added for one drug (one per guideline).
MAX_ADDED_PER_DRUG = 3
_CONTENT_WORD = re.compile(r"[a-z][a-z-]{2,}")
_IGNORED_WORDS = frozenset(
    "the and for with what which how much many dose doses dosing dosage should give given patient pt weighs "
    "weight tall height does do are was were get can use used".split()
)


def has_dose_for(mention: DrugMention, quoted: list[QuotedDose]) -> bool:
    """True when a statement about the drug (at the intensity asked) states a dose for it."""
    return any(
        not found.dose.ceiling and dose_is_for(found.dose, mention) and is_about(found.quote, mention)
        for found in quoted
    )


def statements_to_add(asked: Asked, quotes: list[Quote], statements: Sequence[Quote]) -> tuple[list[Quote], list[str]]:
    """Passed statements that state a dose for an asked drug whose dose the quotes do not show.

    Returns the statements to quote (best match to the question's words first, one per
    guideline) and a note for each drug saying where its dose statement was added from.
    """
    if not statements or not asked.wants_dose:
        return [], []
    shown = {(quote.source, quote.start, quote.end) for quote in quotes}
    candidates = quoted_doses([s for s in statements if (s.source, s.start, s.end) not in shown])
    words = _question_words(asked.text)
    added: list[Quote] = []
    notes: list[str] = []
    quoted = quoted_doses(quotes)
    for mention in asked.drugs:
        if has_dose_for(mention, quoted):
            continue
        fitting = [found for found in candidates if has_dose_for(mention, [found]) and found.quote not in added]
        chosen = _best_per_guideline(fitting, words)
        if not chosen:
            continue
        added.extend(chosen)
        where = "; ".join(source_label(quote) for quote in chosen)
        notes.append(
            f"The passages found did not include the statement that gives the {mention.label} dose; "
            f"it is quoted below from {where}."
        )
        quoted = quoted_doses([*quotes, *added])
    return added, notes


def _question_words(question: str) -> set[str]:
    """Content words of the question; numbers (weights, heights, ages) are left out on purpose."""
    return {word for word in _CONTENT_WORD.findall(question.lower()) if word not in _IGNORED_WORDS}


def _best_per_guideline(fitting: list[QuotedDose], words: set[str]) -> list[Quote]:
    def overlap(quote: Quote) -> int:
        where = f"{quote.title or ''} {quote.section or ''} {quote.context or ''} {quote.text}".lower()
        return len(words & set(_CONTENT_WORD.findall(where)))

    unique = {found.quote.chunk_id: found.quote for found in fitting}
    ranked = sorted(unique.values(), key=lambda quote: -overlap(quote))
    chosen: list[Quote] = []
    for quote in ranked:
        if all(quote.source != other.source for other in chosen):
            chosen.append(quote)
    return chosen[:MAX_ADDED_PER_DRUG]


def check_not_specified(asked: Asked, quotes: list[Quote], quoted: list[QuotedDose]) -> Outcome:
    """When the question asks for a drug's dose and the statements on that drug give none, say so and state no number."""
    if not asked.wants_dose:
        return Outcome()
    flags: list[Flag] = []
    notes: list[str] = []
    drugs = asked.drugs
    dosed = [m for m in drugs if any(dose_is_for(found.dose, m) and found.dose.drug_key for found in quoted)]
    for mention in drugs:
        if dosed and mention not in dosed:
            # "carboplatin-paclitaxel ... what paclitaxel dose?": one named drug's dose is quoted, and
            # the others may be named only as the regimen's setting; never deny what was not asked.
            continue
        about = [quote for quote in quotes if is_about(quote, mention)]
        if any(found.quote in about and dose_is_for(found.dose, mention) for found in quoted):
            continue
        if any(found.quote in about for found in quoted):
            # "dolutegravir is an alternative to raltegravir (...) but the dose should be increased to
            # 50 mg twice daily": a dose in a statement about the drug, attributed to another name in
            # it, is too uncertain to deny.
            continue
        if any(_unnamed(found) for found in quoted):
            continue  # "The recommended dose is 0.4 mg per day." may well be the asked drug's: never deny it
        flag, note = _not_specified(mention, about, quoted)
        flags.append(flag)
        notes.append(note)
    return Outcome(flags=tuple(flags), notes=tuple(notes))


def _unnamed(found: QuotedDose) -> bool:
    """A dose in a statement that names no drug at all: its drug is in the heading or the sentence before."""
    return found.dose.drug_key is None and not find_drugs(f"{found.quote.context or ''} {found.quote.text}")


def _not_specified(mention: DrugMention, about: list[Quote], quoted: list[QuotedDose]) -> tuple[Flag, str]:
    label = _label(mention)
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


def _label(mention: DrugMention) -> str:
    """The drug as the question names it, with the name it was read as when misspelt ("rituxamab (rituximab)")."""
    surface = mention.surface.lower()
    if surface != mention.key and all(m.key != mention.key for m in find_drugs(mention.surface)):
        return f"{mention.label} (read as {mention.key})"
    return mention.label
