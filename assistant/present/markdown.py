"""Markdown: the JSON ``answer`` field (:func:`markdown`, filled once by :func:`rendered`) and the chat export.

The Markdown is written for a person reading the file: guideline text is copied
as written (no backslash escapes), the direct answer comes first, the other
statements are grouped under their guideline's title, page and section, and a
bracket label already in a statement is never repeated after it. The lead line
("The guideline says (quoted verbatim):") always sits right above the quotes, so
the assistant's own sentences are never presented as quoted text.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.answer.labels import citation_chips
from assistant.answer.schema import ABSTAIN_MESSAGE, Answer, Quote, QuoteGroup
from assistant.present.grades import grade_line
from assistant.present.text import (
    ABSTAIN_TITLE,
    DIRECT_LABEL,
    DISCLAIMER,
    DOSE_COLUMNS,
    DOSE_SOURCE_COLUMNS,
    SUPPORTING_LABEL,
    WITHHELD_NOTICE,
    group_heading,
    group_quotes,
    guidelines_heading,
    one_line,
    quote_location,
    split_direct,
    trailing_labels,
)
from assistant.present.view import answer_view

EXPORT_TITLE = "# Guideline assistant conversation"


def render_quote(quote: Quote) -> str:
    """One quote as a Markdown block quote: its lead-in (for bullets), the text, labels not already in it."""
    lines: list[str] = []
    if quote.context:
        lines.append(f"> *{one_line(quote.context)}*")
        lines.append(">")
    chips = citation_chips(trailing_labels(quote))
    lines.append(f"> {one_line(quote.text)}" + (f" {chips}" if chips else ""))
    if (grade := grade_line(quote)) is not None:
        lines.append(f"\n*{grade}*")
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
    """The whole answer as Markdown (the schema's ``answer`` field): summary, our notes, the lead, the quotes."""
    head = head_lines(answer)
    if answer.abstained or not answer.quotes:
        return "\n\n".join([*head, answer.lead or ABSTAIN_MESSAGE])
    return "\n\n".join([*head, render_answer(answer.lead, answer.quotes)])


def rendered(answer: Answer) -> Answer:
    """The checked answer with its ``answer`` field (``Answer.markdown``) filled: done once, after the guardrail."""
    return answer.model_copy(update={"answer": markdown(answer)})


def unquoted_text(text: str, quotes: list[Quote], exempt: tuple[str, ...] = ()) -> str:
    """The part of a rendered answer that is not verbatim guideline text: a model's summary and the lead line.

    ``exempt`` are sentences to remove as well (the guardrail's own notes, recomputed
    from question and quotes, so a model cannot forge them).
    """
    for note in exempt:
        text = text.replace(note, " ")
    for quote in quotes:
        text = text.replace(render_quote(quote), " ")
    for quote in quotes:
        for part in (quote.text, quote.context):
            if part:
                text = text.replace(" ".join(part.split()), " ")
    return text


def _cell(text: str) -> str:
    """A table cell on one line; a pipe would end the cell, so it becomes a slash."""
    return one_line(text).replace("|", "/")


def answer_section(number: int, answer: Answer) -> list[str]:
    """One answer of the export: the question, its alerts (title and loudness), our lines, quotes, doses."""
    view = answer_view(answer)
    parts = [f"## {number}. {one_line(answer.question)}"]
    parts += [f"**{alert.title}** ({alert.loudness.value}): {one_line(alert.text)}" for alert in view.alerts]
    head = [f"Answered as: {view.asked_as}"] if view.asked_as else []
    head += [view.summary] if view.summary else []
    if view.abstained:
        return [*parts, *head, *view.notes, f"**{ABSTAIN_TITLE}.** {view.lead}"]
    if view.summary_withheld:
        parts.append(WITHHELD_NOTICE)
    parts += [*head, *view.notes]
    parts.append(render_answer(answer.lead, answer.quotes))
    if view.dose_rows:
        columns = (*DOSE_COLUMNS, *DOSE_SOURCE_COLUMNS)
        table = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        table += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in view.dose_rows]
        parts.append("\n".join(table))
    parts.append(f"Citations: {view.citations}")
    return parts


def conversation_markdown(answers: Iterable[Answer], guidelines: Iterable[str] = ()) -> str:
    """The conversation as a readable Markdown file: text as written, every quote with its source."""
    names = "; ".join(guidelines)
    parts = [EXPORT_TITLE, f"*{DISCLAIMER}*"]
    if names:
        parts.append(f"Guidelines: {names}")
    for number, answer in enumerate(answers, start=1):
        parts += answer_section(number, answer)
    return "\n\n".join(parts) + "\n"
