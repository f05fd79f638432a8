"""Doses bound to a context: a combination, a route, a population; and one drug with several doses.

"What dose of IVIG with plasma exchange?" may retrieve the guideline's standard
IVIG dose, stated for IVIG alone; shown unflagged, a clinician reads that number
as the dose for the combination. When the question names a combination (a drug or
procedure given together), a route or a population (children, pregnancy, kidney
impairment, ...: the vocabulary's route and population tables) and the statement
a dose is quoted from does not mention it, the guardrail says the number is stated
for another context. When one drug has
different doses in different statements (sections, indications, guidelines), it
says so above the quotes instead of letting the table read as one dose.

The notes name where a dose comes from, never a number of their own, except the
"doses differ" note, which repeats only quoted dose text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.labels import shown_section
from assistant.answer.schema import Flag, FlagCode, Quote, Risk, Severity
from assistant.guardrails.asked import Asked
from assistant.guardrails.checks import Outcome, QuotedDose, dose_is_for, source_label
from assistant.guardrails.coverage import has_dose_for
from assistant.guardrails.regimen import route_of
from assistant.vocabulary.drugs import DrugMention, find_drugs, same_drug
from assistant.vocabulary.populations import named_populations, population_patterns
from assistant.vocabulary.routes import BY_CODE, ROUTES
from assistant.vocabulary.routes import alternation as route_alternation

_PROCEDURES: dict[str, str] = {
    "plasma exchange": r"(?:therapeutic\s+)?plasma\s*exchange|plasmapheresis|\btpe\b|apheresis",
    "dialysis": r"ha?emodialysis|dialysis",
    "transfusion": r"transfusions?",
    "radiotherapy": r"radiotherapy|radiation\s+therapy",
    "surgery": r"surgery|surgical|operation",
}
_COMBINED = re.compile(
    r"\b(?:together\s+with|combined\s+with|in\s+combination\s+with|alongside|along\s+with|plus|with|added\s+to)\s+(?P<what>[^?.,;]{2,60})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Context:
    """One context a question names: how to say it, and how to tell a statement mentions it."""

    name: str
    pattern: re.Pattern[str] | None = None
    drug: str | None = None
    route: str | None = None

    def mentioned_in(self, found: QuotedDose) -> bool:
        quote = found.quote
        where = " ".join(filter(None, (quote.title, quote.section, quote.context, quote.text)))
        if self.route is not None:
            # "i.v. clindamycin 900mg": the route may be written before the drug, outside the dose's own words
            written = route_alternation(BY_CODE[self.route])
            said = re.search(rf"(?<![a-z])(?:{written})(?![a-z])", quote.text, re.IGNORECASE)
            return route_of(found.dose) == self.route or said is not None
        if self.drug is not None:
            return any(same_drug(self.drug, m.key) for m in find_drugs(where))
        return self.pattern is not None and self.pattern.search(where) is not None


def contexts_in(asked: Asked) -> list[Context]:
    """The combinations, routes and populations a question names (drug names masked for routes)."""
    question = asked.text
    masked = _mask_drugs(asked)
    found: list[Context] = []
    # The groups are recognised as the answer's population note recognises them (lay phrases set aside).
    for name in named_populations(question):
        found.append(Context(name=name, pattern=population_patterns()[name]))
    for match in _COMBINED.finditer(question):
        what = match.group("what")
        for name, words in _PROCEDURES.items():
            pattern = re.compile(rf"\b(?:{words})\b", re.IGNORECASE)
            if pattern.search(what) and all(c.name != f"use with {name}" for c in found):
                found.append(Context(name=f"use with {name}", pattern=pattern))
        drugs = find_drugs(what, typos=True)
        if drugs and all(c.drug != drugs[0].key for c in found):
            found.append(Context(name=f"with {drugs[0].surface}", drug=drugs[0].key))
    # A route written with a dose in the question ("1 g PO daily?") is compared with the guideline's dose instead.
    routes = () if asked.doses else ROUTES
    for route in routes:
        if re.search(rf"(?<![\w.])(?:{route_alternation(route)})(?![\w])", masked, re.IGNORECASE):
            found.append(Context(name=route.use, route=route.code))
    return found


# "stage IV melanoma", "grade IV", "class IV heart failure", "factor IV": a Roman numeral, not a route.
_NUMERAL_IV = re.compile(
    r"\b(?:stage|grade|class|type|phase|level|category|tier|factor|group|nyha|figo|who)\s+(?:iv|v?i{1,3}|v)[a-c]?\b",
    re.IGNORECASE,
)


def _mask_drugs(asked: Asked) -> str:
    """The question with drug names (and "stage IV"-like numerals) blanked, so neither is read as a route."""
    chars = list(asked.text)
    for mention in asked.mentions:
        chars[mention.start : mention.end] = " " * (mention.end - mention.start)
    for numeral in _NUMERAL_IV.finditer(asked.text):
        chars[numeral.start() : numeral.end()] = " " * (numeral.end() - numeral.start())
    return "".join(chars)


def check_context(asked: Asked, quoted: list[QuotedDose], quotes: list[Quote]) -> Outcome:
    """Flag quoted doses of an asked drug whose statements do not mention the combination/route/population asked."""
    contexts = contexts_in(asked)
    if not contexts:
        return Outcome()
    # A drug with no dose of its own in the quotes gets the "no dose given" note instead.
    mentions = [mention for mention in asked.drugs if has_dose_for(mention, quoted)]
    if asked.drugs and not mentions:
        return Outcome()
    flags: list[Flag] = []
    named: list[tuple[str, Context]] = []
    targets: list[DrugMention | None] = [*mentions] or [None]
    for mention in targets:
        doses = [f for f in quoted if not f.dose.ceiling and _for(f, mention)]
        for context in contexts:
            if context.drug is not None and mention is not None and same_drug(context.drug, mention.key):
                continue
            elsewhere = [found for found in doses if not context.mentioned_in(found)]
            if elsewhere and len(elsewhere) == len(doses):
                flags.append(_other_context_flag(context, mention, elsewhere, quotes, quoted))
                named.append((mention.label if mention else elsewhere[0].dose.drug or "this drug", context))
    # Only a question asking for a dose is told "no dose for ..." first ("how long ...?" keeps its direct answer).
    lead = _lead(named) if asked.wants_dose or asked.doses else None
    return Outcome(flags=tuple(flags), notes=tuple(flag.message for flag in flags), lead=lead)


def _lead(named: list[tuple[str, Context]]) -> str | None:
    """The answer's first line when every quoted dose of a drug is for another context: no dose for the one asked.

    Said first so the quotes below are never read as the dose asked for (and none of them is marked the direct
    answer). Who the dose *is* for is not claimed (a statement may name no group at all): only what is missing.
    """
    sentences = []
    for drug in dict.fromkeys(drug for drug, _ in named):
        names = " or ".join(dict.fromkeys(context.name for d, context in named if d == drug))
        sentences.append(
            f"The guideline gives no {drug} dose for {names}; the {drug} dose below is stated without naming {names}."
        )
    return " ".join(sentences) or None


def _for(found: QuotedDose, mention: DrugMention | None) -> bool:
    if mention is None:
        return found.dose.drug_key is not None
    return found.dose.drug_key is not None and dose_is_for(found.dose, mention)


def _other_context_flag(
    context: Context,
    mention: DrugMention | None,
    elsewhere: list[QuotedDose],
    quotes: list[Quote],
    quoted: list[QuotedDose],
) -> Flag:
    drug = mention.label if mention else (elsewhere[0].dose.drug or "the drug")
    places = "; ".join(dict.fromkeys(source_label(found.quote) for found in elsewhere))
    message = (
        f"The question asks about {drug} for {context.name}, but the {drug} dose quoted from {places} is stated for "
        f"another context: that statement does not mention {context.name}. Do not read it as the dose for "
        f"{context.name}."
    )
    numberless = [
        quote
        for quote in quotes
        if context.pattern is not None
        and context.pattern.search(f"{quote.context or ''} {quote.text}")
        and (mention is None or any(same_drug(mention.key, m.key) for m in find_drugs(quote.text)))
        and not any(found.quote == quote for found in quoted)
    ]
    if numberless:
        quote = numberless[0]
        message += f" The statement about {context.name} ({source_label(quote)}) gives no number."
    risk = Risk.ROUTE if context.route is not None else Risk.POPULATION
    return Flag(
        code=FlagCode.DOSE_OTHER_CONTEXT,
        severity=Severity.WARN,
        risk=risk,
        message=message,
        text=elsewhere[0].dose.text,
    )


def check_doses_differ(asked: Asked, quoted: list[QuotedDose]) -> Outcome:
    """One drug, different doses in different statements: say so above the quotes, with where each comes from."""
    drugs = {mention.key for mention in asked.drugs}
    groups: dict[str, list[QuotedDose]] = {}
    for found in quoted:
        key = found.dose.drug_key
        if key is None or found.dose.ceiling or (drugs and not any(same_drug(key, a) for a in drugs)):
            continue
        groups.setdefault(key, []).append(found)
    flags: list[Flag] = []
    for group in groups.values():
        places = {(found.quote.source, found.quote.section) for found in group}
        meanings = {found.dose.semantics()[1:] for found in group}
        if len(places) < 2 or len(meanings) < 2:
            continue
        listed = "; ".join(f"{found.dose.drug} {found.dose.text} ({_where(found.quote)})" for found in _distinct(group))
        message = f"Doses differ by indication/guideline: {listed}. Check which one applies; they are not one dose."
        flags.append(Flag(code=FlagCode.DOSES_DIFFER, severity=Severity.WARN, message=message, text=group[0].dose.drug))
    return Outcome(flags=tuple(flags), notes=tuple(flag.message for flag in flags))


def _distinct(group: list[QuotedDose]) -> list[QuotedDose]:
    seen: set[tuple[object, ...]] = set()
    distinct: list[QuotedDose] = []
    for found in group:
        if found.dose.semantics() not in seen:
            seen.add(found.dose.semantics())
            distinct.append(found)
    return distinct


def _where(quote: Quote) -> str:
    """ "Sinusitis guideline, Treatment, p. 3": guideline title (or file), section and page."""
    parts = [quote.title or quote.source]
    section = shown_section(quote.section)  # a heading that states an amount is no label of ours
    if section:
        parts.append(section)
    if quote.page:
        parts.append(f"p. {quote.page_label or quote.page}")
    return ", ".join(parts)
