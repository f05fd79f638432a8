"""Shared wording of every rendering: where a quote comes from, how quotes group, the dose cells.

The answer travels as data (lead, notes, summary, quotes, doses, flags); these
helpers name its parts the same way for the Markdown, the terminal and the page.
Guideline text is copied as written; a bracket label already in a statement is
never repeated after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.answer.labels import citation_chips, shown_section
from assistant.answer.schema import Answer, DoseInfo, Quote, QuoteGroup

WITHHELD_NOTICE = "A generated summary was withheld; only the verbatim quotes are shown."
ABSTAIN_TITLE = "Not in the guidelines"
DISCLAIMER = (
    "Decision support over the guidelines listed here, not medical advice. Every statement shown is "
    "quoted verbatim from a guideline with its citation labels; check it against the source and "
    "use clinical judgement."
)
DOSE_COLUMNS = ("Drug", "Dose", "Schedule", "Route", "Citations")
DOSE_SOURCE_COLUMNS = ("Guideline", "Section", "Page")
DIRECT_LABEL = "Direct answer"
SUPPORTING_LABEL = "Supporting statements"
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
    section = shown_section(group.section)
    return f"{name} — {section}" if section else name


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


def dose_cells(answer: Answer) -> list[tuple[str, ...]]:
    """One row of plain-text cells per dose, in :data:`DOSE_COLUMNS` order (faces escape for their medium)."""
    rows: list[tuple[str, ...]] = []
    for dose in answer.doses:
        schedule = ", ".join(part for part in (dose.schedule, dose.course) if part)
        rows.append(
            (
                dose.drug or "?",
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
    for dose in answer.doses:
        quote = dose_quote(answer, dose)
        title = getattr(dose, "title", None) or (guideline_name(quote) if quote else dose.source) or "—"
        section = shown_section(getattr(dose, "section", None) or (quote.section if quote else None)) or "—"
        page = getattr(dose, "page", None)
        page_cell = str(page) if page else (page_text([quote]).removeprefix("p. ") if quote else "")
        rows.append((title, section, page_cell or "—"))
    return rows
