"""Shared wording of every rendering: where a quote comes from, how quotes group, the dose cells.

The answer travels as data (lead, notes, summary, quotes, doses, flags); these
helpers name its parts the same way for the Markdown, the terminal and the page.
Guideline text is copied as written; a bracket label already in a statement is
never repeated after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.answer import labels
from assistant.answer.labels import citation_chips, shown_section
from assistant.answer.schema import Answer, DoseInfo, Quote, QuoteGroup
from assistant.vocabulary.drugs import find_drugs
from assistant.vocabulary.intent import mentions_dosing
from assistant.vocabulary.units import UNIT_NAMES

WITHHELD_NOTICE = "A generated summary was withheld; only the verbatim quotes are shown."
ABSTAIN_TITLE = "Not in the guidelines"
DISCLAIMER = (
    "Decision support over the guidelines listed here, not medical advice. Every statement shown is "
    "quoted verbatim from a guideline with its citation labels; check it against the source and "
    "use clinical judgement."
)
DOSE_COLUMNS = ("Drug", "Dose", "Schedule", "Route", "Citations")
DOSE_SOURCE_COLUMNS = ("Guideline", "Section", "Page")
DIRECT_LABEL = labels.DIRECT_LABEL
CLOSEST_LABEL = labels.CLOSEST_LABEL
SUPPORTING_LABEL = "Supporting statements"
SECTION_CHARS = 60
# Units a dose is given in (mass, activity, volume, amount of substance); a row needs one of them.
DOSING_UNITS = frozenset({*UNIT_NAMES.values(), "units"})
_BRACKETS = re.compile(r"\[([^\[\]]{1,60})\]")
_RANGE = re.compile(r"^(\d+)\s*[-–—]\s*(\d+)$")


def labels_in_text(text: str) -> set[str]:
    """The citation labels a statement already shows in brackets: ``"[1, 3–4]"`` -> ``{"1", "3", "4"}``."""
    found: set[str] = set()
    for group in _BRACKETS.findall(text):
        for part in re.split(r"[,;]", group):
            part = part.strip()
            span = _RANGE.match(part)
            if span and int(span.group(2)) - int(span.group(1)) < 50:
                found.update(str(n) for n in range(int(span.group(1)), int(span.group(2)) + 1))
            elif part:
                found.add(part)
    return found


def trailing_labels(quote: Quote) -> list[str]:
    """The quote's labels not already printed in its text, so "…5 days [1]." is never followed by "[1]"."""
    shown = labels_in_text(quote.text)
    return [label for label in quote.citations if label not in shown]


def one_line(text: str) -> str:
    """One line per statement, so a wrapped statement stays inside its block quote."""
    return text.replace("\n", " ").strip()


def guideline_name(quote: Quote) -> str:
    """The guideline as a reader knows it: its title (with its year, when the title does not say it), else its file."""
    name = quote.title or quote.source
    return f"{name} ({quote.year})" if quote.year and str(quote.year) not in name else name


def page_text(quotes: Iterable[Quote]) -> str:
    """``"p. 4"``, ``"pp. 4–5"`` (printed labels where the PDF has them), or ``""`` for unpaged files."""
    pages = list(dict.fromkeys(quote.page_label or str(quote.page) for quote in quotes if quote.page))
    if not pages:
        return ""
    return f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"


def quote_location(quote: Quote) -> str:
    """Where a quote comes from: ``guideline title, page — section`` (the page for PDFs only)."""
    return group_heading(QuoteGroup(source=quote.source, section=quote.section, quotes=[quote]))


def group_heading(group: QuoteGroup) -> str:
    """A group's heading: ``guideline title, page — section``."""
    first = group.quotes[0]
    page = page_text(group.quotes)
    name = f"{guideline_name(first)}, {page}" if page else guideline_name(first)
    section = short_section(group.section)
    return f"{name} — {section}" if section else name


def short_section(section: str | None) -> str | None:
    """A section label that fits one line: a heading that is a whole recommendation keeps its first words.

    The full heading stays one tap away (the "Whole section" view); a heading that
    states an amount is left out entirely (:func:`shown_section`).
    """
    shown = shown_section(section)
    if shown is None or len(shown) <= SECTION_CHARS:
        return shown
    cut = shown[:SECTION_CHARS].rsplit(" ", 1)[0].rstrip(" ,;:.-–—")
    return f"{cut}…"


def group_quotes(quotes: Iterable[Quote]) -> list[QuoteGroup]:
    """Consecutive quotes of one guideline's section together, in the order given (as ``Answer.quote_groups``)."""
    groups: list[QuoteGroup] = []
    for quote in quotes:
        if groups and groups[-1].source == quote.source and groups[-1].section == quote.section:
            groups[-1].quotes.append(quote)
        else:
            groups.append(QuoteGroup(source=quote.source, section=quote.section, quotes=[quote]))
    return groups


def is_bare_lead_in(quote: Quote) -> bool:
    """A sentence that only introduces a list ("…is limited to:"): it is shown as its bullets' context line."""
    return not quote.direct and quote.kind == "sentence" and quote.text.rstrip().endswith(":")


def split_direct(quotes: list[Quote]) -> tuple[Quote | None, list[QuoteGroup]]:
    """The direct answer (when the chain marked one) and the supporting statements in groups.

    A bare lead-in is left out: alone it says nothing, and with its bullets it is their context line.
    """
    direct = next((quote for quote in quotes if quote.direct), None)
    return direct, group_quotes(quote for quote in quotes if quote is not direct and not is_bare_lead_in(quote))


def guidelines_heading(quotes: list[Quote]) -> str | None:
    """``"From 2 guidelines: A; B"`` when the quotes come from more than one guideline, else None."""
    names = list(dict.fromkeys(guideline_name(quote) for quote in quotes))
    return f"From {len(names)} guidelines: {'; '.join(names)}" if len(names) > 1 else None


def dose_drug(answer: Answer, dose: DoseInfo) -> str | None:
    """The dose's drug, else the drug its statement is listed under (a bullet's lead-in, the section heading)."""
    if dose.drug:
        return dose.drug
    quote = dose_quote(answer, dose)
    for heading in (quote.context, quote.section) if quote is not None else ():
        mentions = find_drugs(heading or "")
        if mentions:
            return mentions[0].surface
    return None


def is_dose_row(answer: Answer, dose: DoseInfo) -> bool:
    """A dose table row needs a drug and an amount in a dosing unit.

    An infusion pump's rate with no drug ("2000 ml/hour"), a lab value or a
    threshold is a number in the statement, not a dose; a row with "?" for its
    drug would be read as a dose of something.
    """
    return dose.amount is not None and dose.unit in DOSING_UNITS and dose_drug(answer, dose) is not None


def table_doses(answer: Answer) -> list[DoseInfo]:
    """The doses that make rows of the dose table, in the answer's order."""
    return [dose for dose in answer.doses if is_dose_row(answer, dose)]


def dose_cells(answer: Answer) -> list[tuple[str, ...]]:
    """One row of plain-text cells per dose, in :data:`DOSE_COLUMNS` order (faces escape for their medium)."""
    rows: list[tuple[str, ...]] = []
    for dose in table_doses(answer):
        schedule = ", ".join(part for part in (dose.schedule, dose.course) if part)
        rows.append(
            (
                dose_drug(answer, dose) or "—",
                dose.text,
                schedule or "—",
                dose.route or "—",
                citation_chips(dose.citations) or "—",
            )
        )
    return rows


def dose_quote(answer: Answer, dose: DoseInfo) -> Quote | None:
    """The quoted statement a dose was read from: same guideline, offsets inside the statement."""
    for quote in answer.quotes:
        if quote.source != dose.source:
            continue
        if dose.start is None or dose.end is None or (quote.start <= dose.start and dose.end <= quote.end):
            return quote
    return None


def dose_source_cells(answer: Answer) -> list[tuple[str, str, str]]:
    """Guideline, section and page of each dose (:data:`DOSE_SOURCE_COLUMNS`), from the dose or its quote."""
    rows: list[tuple[str, str, str]] = []
    for dose in table_doses(answer):
        quote = dose_quote(answer, dose)
        title = getattr(dose, "title", None) or (guideline_name(quote) if quote else dose.source) or "—"
        section = short_section(getattr(dose, "section", None) or (quote.section if quote else None)) or "—"
        page = getattr(dose, "page", None)
        page_cell = str(page) if page else (page_text([quote]).removeprefix("p. ") if quote else "")
        rows.append((title, section, page_cell or "—"))
    return rows


def follow_up_line(question: str, asked_as: str | None) -> str | None:
    """How a follow-up was understood: ``"IVIG dose in children (follow-up to: How much IVIG…)"``.

    The standalone rewrite is "<previous subject>: <follow-up>"; shown that way it
    reads as one odd sentence, so the follow-up is named with the previous
    subject's drug (and "dose" when the subject was about dosing), then the subject.
    """
    if not asked_as:
        return None
    follow = question.strip()
    subject = asked_as.strip()
    if subject.endswith(follow):
        subject = subject[: -len(follow)].rstrip(" :")
    asked = re.sub(r"(?i)^(?:and|also|what about|how about|but|so|then)\b[\s,]*", "", follow).rstrip(" ?.!")
    drugs = list(
        dict.fromkeys(
            mention.surface for mention in find_drugs(subject) if mention.surface.lower() not in asked.lower()
        )
    )
    named = " ".join([*drugs, "dose"] if drugs and mentions_dosing(subject) else drugs)
    said = f"{named} {asked}".strip() if asked else named or follow
    return f"{said[:1].upper()}{said[1:]} (follow-up to: {subject})"


def dose_lead(answer: Answer, direct: Quote | None) -> str | None:
    """One short line for a dose answer: drug, dose, schedule, route, citation and guideline of the direct quote's dose.

    Every value is a verbatim piece of the quoted statement (the dose's own text),
    so the line restates nothing the quote below does not say.
    """
    if direct is None:
        return None
    for dose in table_doses(answer):
        if dose_quote(answer, dose) is not direct:
            continue
        said = dose.text.lower()
        schedule = ", ".join(
            part
            for part in (dose.schedule, dose.course)
            if part and not any(word in said for word in re.findall(r"[a-z]{4,}", part.lower()))
        )
        parts = [f"{dose_drug(answer, dose)} {one_line(dose.text)}", schedule, dose.route or ""]
        cited = citation_chips(dose.citations)
        where = f"{guideline_name(direct)} {cited}".strip()
        line = " · ".join(part for part in parts if part) + f" — {where}"
        return line[:1].upper() + line[1:]
    return None
