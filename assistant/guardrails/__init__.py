"""The deterministic dose guardrail: the last stage every answer passes through, whatever wrote it.

``apply_guardrail(query, answer)`` parses every dose in the quoted statements,
blocks generated text that states a dose the cited quotes do not, flags doses in the
question that differ from the guideline's, says plainly when the guideline gives no
dose (only after checking every statement it is given), compares course length, taper,
continuous infusion and route, flags a dose quoted for another combination, route or
population than the one asked, says when one drug's doses differ between statements,
reads disguised amounts (words, look-alike letters, scientific notation, grains,
invisible and bidirectional characters) as displayed and flags them, and does patient
arithmetic only from a quoted per-kg or per-m² dose. No model
is involved, and the same inputs always give the same answer. Running it twice on
its own output changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answer.compose import citations_by_source
from assistant.answer.schema import (
    LEAD_FOUND,
    Answer,
    Flag,
    FlagCode,
    Guardrail,
    GuardrailStatus,
    Quote,
    Severity,
    sort_labels,
)
from assistant.guardrails.asked import Asked
from assistant.guardrails.checks import (
    Outcome,
    check_calculation,
    check_format,
    check_grounding,
    dose_info,
    quoted_doses,
)
from assistant.guardrails.compare import check_question_doses
from assistant.guardrails.context import check_context, check_doses_differ
from assistant.guardrails.coverage import check_not_specified, statements_to_add
from assistant.guardrails.doses import Dose, format_dose, parse_doses
from assistant.retrieval.query import Query

__all__ = ["BLOCK_LEAD", "Dose", "apply_guardrail", "format_dose", "parse_doses", "status_of"]

BLOCK_LEAD = (
    "The generated summary was withheld because it stated a dose that is not in the cited guideline text. " + LEAD_FOUND
)


OTHER_CONTEXT_NO_ARITHMETIC = (
    "No amount was calculated for this patient: the quoted dose is stated for another context "
    "(see above), so multiplying it out would present it as this patient's dose."
)


def _no_arithmetic_for_another_context(context: Outcome, calculation: Outcome) -> Outcome:
    """A dose flagged as stated for another context (a child asked, an adult dose quoted) is never multiplied out."""
    other = any(flag.code is FlagCode.DOSE_OTHER_CONTEXT for flag in context.flags)
    if not other or not any(flag.code is FlagCode.CALCULATION for flag in calculation.flags):
        return calculation
    refused = Flag(code=FlagCode.CALCULATION_REFUSED, severity=Severity.INFO, message=OTHER_CONTEXT_NO_ARITHMETIC)
    return Outcome(flags=(refused,), notes=(OTHER_CONTEXT_NO_ARITHMETIC,))


def apply_guardrail(question: Query | str, answer: Answer, statements: Sequence[Quote] = ()) -> Answer:
    """Check one draft answer and return the answer to show: doses listed, flags raised, notes added as data.

    ``question`` is the question's :class:`~assistant.retrieval.query.Query` (as the chain built it) or
    its text; the guardrail reads it once (:class:`~assistant.guardrails.asked.Asked`) for every check.

    ``statements`` are further guideline statements the caller has (for example every
    statement in the library that names a drug the question asks about). They are not
    shown unless the quotes miss the statement that gives an asked drug's dose: then it
    is quoted too, and "no dose given" is never said while the library states one.
    """
    asked = Asked.read(question)
    quotes = list(answer.quotes)
    added_notes: list[str] = []
    if not answer.abstained:
        added, added_notes = statements_to_add(asked, quotes, statements)
        quotes += added
    quoted = quoted_doses(quotes)
    notes_outcomes: list[Outcome] = []
    context = Outcome()
    if not answer.abstained:
        # An abstained answer never gains a number: no "not specified" note, no arithmetic.
        context = check_context(asked, quoted, quotes)
        notes_outcomes = [
            check_not_specified(asked, quotes, quoted),
            context,
            check_doses_differ(asked, quoted),
            _no_arithmetic_for_another_context(context, check_calculation(asked, quoted)),
        ]
    notes = added_notes + [note for outcome in notes_outcomes for note in outcome.notes]
    generated = "" if answer.summary_withheld else (answer.summary or "")
    grounding = check_grounding(generated, quoted)
    outcomes = [
        grounding,
        check_question_doses(asked, quoted),
        check_format(asked, quoted, generated),
        *notes_outcomes,
    ]
    flags = _merge(answer.guardrail.flags, [flag for outcome in outcomes for flag in outcome.flags])
    update: dict[str, object] = {
        "notes": list(dict.fromkeys([*answer.notes, *notes])),
        "doses": [dose_info(found) for found in quoted],
        "guardrail": Guardrail(status=status_of(flags), flags=flags),
    }
    if len(quotes) != len(answer.quotes):
        update |= {
            "quotes": quotes,
            "citations": sort_labels([label for quote in quotes for label in quote.citations]),
            "citations_by_source": citations_by_source(quotes),
        }
    if grounding.flags:
        update |= {"summary": None, "summary_withheld": True, "lead": answer.lead if answer.abstained else BLOCK_LEAD}
    if context.lead is not None:
        update |= _other_context_lead(context, str(update.get("lead", answer.lead)), update.get("quotes", quotes))
    # The checked answer is data; the Markdown is rendered once by the caller (present.rendered), so a
    # rendering made before the check (say, with a summary now withheld) is never carried along.
    update["answer"] = ""
    return answer.model_copy(update=update)


def _other_context_lead(context: Outcome, lead: str, quotes: object) -> dict[str, object]:
    """No contradicting signals: the lead says no dose is given for the group asked, and a statement holding a
    dose flagged as stated for another group is not marked the direct answer."""
    flagged = {flag.text for flag in context.flags if flag.code is FlagCode.DOSE_OTHER_CONTEXT}
    shown = [
        quote.model_copy(update={"direct": False})
        if quote.direct and any(text and text in quote.text for text in flagged)
        else quote
        for quote in quotes  # type: ignore[attr-defined]
    ]
    new_lead = lead if lead.startswith(str(context.lead)) else f"{context.lead} {lead}"
    return {"lead": new_lead, "quotes": shown}


def status_of(flags: list[Flag]) -> GuardrailStatus:
    """Block if any flag blocks, else warn if any warns, else pass."""
    severities = {flag.severity for flag in flags}
    if Severity.BLOCK in severities:
        return GuardrailStatus.BLOCK
    if Severity.WARN in severities:
        return GuardrailStatus.WARN
    return GuardrailStatus.PASS


def _merge(existing: list[Flag], new: list[Flag]) -> list[Flag]:
    """Earlier flags are kept (a block stays a block on a second run); identical flags appear once."""
    merged: list[Flag] = []
    for flag in [*existing, *new]:
        if flag not in merged:
            merged.append(flag)
    return merged
