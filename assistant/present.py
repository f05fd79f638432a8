"""Presentation: the one place an :class:`~assistant.answer.Answer` becomes text a person reads.

The answer travels as data (lead, notes, summary, quotes, doses, flags); this
module turns it into Markdown (the JSON ``answer`` field, the chat export) and
into the cells the CLI's and the UI's dose tables show. Faces never take the
answer string apart: they render the fields.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.answer.schema import ABSTAIN_MESSAGE, Answer, Quote

WITHHELD_NOTICE = "A generated summary was withheld; only the verbatim quotes are shown."
DOSE_COLUMNS = ("Drug", "Dose", "Schedule", "Route", "Citations")


def citation_chips(labels: Iterable[str]) -> str:
    """``["4", "5"]`` -> ``"[4] [5]"``; empty when the statement carries no citation."""
    return " ".join(f"[{label}]" for label in labels)


def one_line(text: str) -> str:
    """One line per statement, so a wrapped statement stays inside its block quote."""
    return text.replace("\n", " ").strip()


def quote_location(quote: Quote) -> str:
    """Where a quote comes from: ``section — source`` (with the page for PDFs)."""
    source = f"{quote.source}, p. {quote.page_label or quote.page}" if quote.page else quote.source
    return f"{quote.section} — {source}" if quote.section else source


def render_quote(quote: Quote) -> str:
    """One quote as a Markdown block quote, its lead-in (for bullets) and its source line."""
    lines: list[str] = []
    if quote.context:
        lines.append(f"> *{one_line(quote.context)}*")
        lines.append(">")
    chips = citation_chips(quote.citations)
    lines.append(f"> {one_line(quote.text)}" + (f" {chips}" if chips else ""))
    lines.append(f"\n*Source: {one_line(quote_location(quote))}*")
    return "\n".join(lines)


def render_answer(lead: str, quotes: list[Quote]) -> str:
    """A lead line, then each quote in the order given (the abstention message when there is none)."""
    if not quotes:
        return lead or ABSTAIN_MESSAGE
    return "\n\n".join([lead] + [render_quote(quote) for quote in quotes])


def markdown(answer: Answer) -> str:
    """The whole answer as Markdown: summary, our notes, the lead line directly above the quotes.

    The lead line ("The guideline says (quoted verbatim):") always sits right above
    the quotes, so the assistant's own sentences are never presented as quoted text.
    """
    head = [answer.summary] if answer.summary and not answer.summary_withheld else []
    head += answer.notes
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
