"""Presentation: the one place an :class:`~assistant.answer.Answer` becomes text a person reads.

The answer travels as data (lead, notes, summary, quotes, doses, flags); this
module turns it into Markdown (the JSON ``answer`` field, the chat export) and
into the cells the CLI's and the UI's dose tables show. Faces never take the
answer string apart: they render the fields.

The Markdown is written for a person reading the file: guideline text is copied
as written (no backslash escapes), the direct answer comes first, the other
statements are grouped under their guideline's title, page and section, and a
bracket label already in a statement is never repeated after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from assistant.answer.schema import ABSTAIN_MESSAGE, Answer, DoseInfo, Quote, QuoteGroup
from assistant.vocabulary.units import AMOUNT

WITHHELD_NOTICE = "A generated summary was withheld; only the verbatim quotes are shown."
DOSE_COLUMNS = ("Drug", "Dose", "Schedule", "Route", "Citations")
DOSE_SOURCE_COLUMNS = ("Guideline", "Section", "Page")
DIRECT_LABEL = "Direct answer"
SUPPORTING_LABEL = "Supporting statements"
_BRACKETS = re.compile(r"\[([^\[\]]{1,60})\]")
_RANGE = re.compile(r"^(\d+)\s*[-–—]\s*(\d+)$")


def citation_chips(labels: Iterable[str]) -> str:
    """``["4", "5"]`` -> ``"[4] [5]"``; empty when the statement carries no citation."""
    return " ".join(f"[{label}]" for label in labels)


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
    """The guideline as a reader knows it: its title, else its file name."""
    return quote.title or quote.source


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


# A PDF line read as a heading can hold a dose ("... azithromycin 1 g/week for 2 weeks"): such a
# heading is left out of our labels, so no number ever appears outside a verbatim quote.
def shown_section(section: str | None) -> str | None:
    """A section heading as labels show it: None when it states an amount, else at most 100 characters."""
    if not section or AMOUNT.search(section):
        return None
    return section if len(section) <= 100 else section[:99] + "…"


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


def render_quote(quote: Quote) -> str:
    """One quote as a Markdown block quote: its lead-in (for bullets), the text, labels not already in it."""
    lines: list[str] = []
    if quote.context:
        lines.append(f"> *{one_line(quote.context)}*")
        lines.append(">")
    chips = citation_chips(trailing_labels(quote))
    lines.append(f"> {one_line(quote.text)}" + (f" {chips}" if chips else ""))
    return "\n".join(lines)


def render_references(quotes: Iterable[Quote]) -> str:
    """The reference-list entries the quotes cite, one line each (empty when there are none)."""
    entries = {(ref.label, ref.text): None for quote in quotes for ref in quote.references}
    return "\n".join(f"- [{label}] {one_line(text)}" for label, text in entries)


def _render_group(group: QuoteGroup, heading: str) -> str:
    parts = [heading, *(render_quote(quote) for quote in group.quotes)]
    references = render_references(group.quotes)
    if references:
        parts.append("References:\n" + references)
    return "\n\n".join(parts)


def render_answer(lead: str, quotes: list[Quote]) -> str:
    """A lead line, the direct answer, then the supporting statements grouped by guideline and section."""
    if not quotes:
        return lead or ABSTAIN_MESSAGE
    parts = [lead]
    several = guidelines_heading(quotes)
    if several:
        parts.append(f"*{several}*")
    direct, groups = split_direct(quotes)
    if direct is not None:
        parts.append(_render_group(group_quotes([direct])[0], f"**{DIRECT_LABEL}** · *{quote_location(direct)}*"))
        if groups:
            parts.append(f"**{SUPPORTING_LABEL}**")
    parts += [_render_group(group, f"*{group_heading(group)}*") for group in groups]
    return "\n\n".join(parts)


def head_lines(answer: Answer, exclude: Iterable[str] = ()) -> list[str]:
    """Our own lines above the quotes: "Answered as", the summary (unless withheld), the notes.

    ``exclude`` drops notes a face already shows elsewhere (a flag's message), so none appears twice.
    """
    skip = set(exclude)
    head = [f"Answered as: {answer.asked_as}"] if answer.asked_as else []
    head += [answer.summary] if answer.summary and not answer.summary_withheld else []
    return head + [note for note in answer.notes if note not in skip]


def markdown(answer: Answer) -> str:
    """The whole answer as Markdown: summary, our notes, the lead line directly above the quotes.

    The lead line ("The guideline says (quoted verbatim):") always sits right above
    the quotes, so the assistant's own sentences are never presented as quoted text.
    """
    head = head_lines(answer)
    if answer.abstained or not answer.quotes:
        return "\n\n".join([*head, answer.lead or ABSTAIN_MESSAGE])
    return "\n\n".join([*head, render_answer(answer.lead, answer.quotes)])


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
