"""Markdown: the JSON ``answer`` field (:func:`markdown`, filled once by :func:`rendered`) and the chat export.

The Markdown is written for a person reading the file: guideline text reads as
written, made inert by :func:`~assistant.present.inert.inert` (a link, image, HTML,
icon code or math in a guideline file stays text; ``quotes[].text`` keeps it raw), the direct answer comes first, the other
statements are grouped under their guideline's title, page and section, and a
bracket label already in a statement is never repeated after it. The lead line
("The guideline says (quoted verbatim):") always sits right above the quotes, so
the assistant's own sentences are never presented as quoted text.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from assistant.answer.labels import citation_chips, direct_label
from assistant.answer.schema import ABSTAIN_MESSAGE, Answer, Quote, QuoteGroup
from assistant.present.grades import grade_line
from assistant.present.inert import inert
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
from assistant.present.view import alert_text, answer_view

EXPORT_TITLE = "# Guideline assistant conversation"


@dataclass(frozen=True)
class ExportHeader:
    """What an exported conversation was answered from, so a reader later can tell which library said it.

    ``guidelines`` are ``(title, date)`` pairs; the date is the year the guideline
    states, or "date not stated".
    """

    exported_at: str
    app_version: str
    library: str
    index_build: str
    guidelines: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def lines(self) -> list[str]:
        """The header as Markdown lines (a list under the export's title)."""
        head = [
            f"- Exported: {self.exported_at}",
            f"- App version: {self.app_version}",
            f"- Library folder: {inert(self.library)}",
            f"- Index build: {self.index_build}",
            f"- Guidelines ({len(self.guidelines)}):",
        ]
        return head + [f"  - {inert(one_line(title))} ({date})" for title, date in self.guidelines]


def index_build_id(created_at: str, files: Mapping[str, str]) -> str:
    """A short, stable name for one index build: when it was built and a digest of the files it was built from."""
    digest = hashlib.sha256(json.dumps(dict(files), sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return f"{created_at} · {digest}"


def render_quote(quote: Quote) -> str:
    """One quote as a Markdown block quote: its lead-in (for bullets), the text, labels not already in it."""
    lines: list[str] = []
    if quote.context:
        lines.append(f"> *{inert(one_line(quote.context))}*")
        lines.append(">")
    chips = citation_chips(trailing_labels(quote))
    lines.append(f"> {inert(one_line(quote.text))}" + (f" {inert(chips)}" if chips else ""))
    if (grade := grade_line(quote)) is not None:
        lines.append(f"\n*{inert(grade)}*")
    return "\n".join(lines)


def render_references(quotes: Iterable[Quote]) -> str:
    """The reference-list entries the quotes cite, one line each (empty when there are none)."""
    entries = {(ref.label, ref.text): None for quote in quotes for ref in quote.references}
    return "\n".join(f"- {inert(f'[{label}] {one_line(text)}')}" for label, text in entries)


def _render_group(group: QuoteGroup, heading: str) -> str:
    parts = [heading, *(render_quote(quote) for quote in group.quotes)]
    references = render_references(group.quotes)
    if references:
        parts.append("References:\n" + references)
    return "\n\n".join(parts)


def render_answer(lead: str, quotes: list[Quote], question: str | None = None) -> str:
    """A lead line, the direct answer, then the supporting statements grouped by guideline and section.

    With the question, the first statement is labelled "Direct answer" only when it
    gives the answer type asked for, else "Closest statement".
    """
    if not quotes:
        return lead or ABSTAIN_MESSAGE
    parts = [inert(lead)]
    several = guidelines_heading(quotes)
    if several:
        parts.append(f"*{inert(several)}*")
    direct, groups = split_direct(quotes)
    if direct is not None:
        label = direct_label(question, direct.text) if question else DIRECT_LABEL
        parts.append(_render_group(group_quotes([direct])[0], f"**{label}** · *{inert(quote_location(direct))}*"))
        if groups:
            parts.append(f"**{SUPPORTING_LABEL}**")
    parts += [_render_group(group, f"*{inert(group_heading(group))}*") for group in groups]
    return "\n\n".join(parts)


def head_lines(answer: Answer, exclude: Iterable[str] = ()) -> list[str]:
    """Our own lines above the quotes: "Answered as", the summary (unless withheld), the notes.

    ``exclude`` drops notes a face already shows elsewhere (a flag's message), so none appears twice.
    """
    skip = set(exclude)
    head = [f"Answered as: {answer.asked_as}"] if answer.asked_as else []
    head += [answer.summary] if answer.summary and not answer.summary_withheld else []
    return head + [alert_text(note, answer.quotes) for note in answer.notes if note not in skip]


def markdown(answer: Answer) -> str:
    """The whole answer as Markdown (the schema's ``answer`` field): summary, our notes, the lead, the quotes."""
    head = [inert(line) for line in head_lines(answer)]
    if answer.abstained or not answer.quotes:
        return "\n\n".join([*head, inert(answer.lead or ABSTAIN_MESSAGE)])
    return "\n\n".join([*head, render_answer(answer.lead, answer.quotes, answer.asked_as or answer.question)])


def rendered(answer: Answer) -> Answer:
    """The checked answer with its ``answer`` field (``Answer.markdown``) filled: done once, after the guardrail."""
    return answer.model_copy(update={"answer": markdown(answer)})


def unquoted_text(text: str, quotes: list[Quote], exempt: tuple[str, ...] = ()) -> str:
    """The part of a rendered answer that is not verbatim guideline text: a model's summary and the lead line.

    ``exempt`` are sentences to remove as well (the guardrail's own notes, recomputed
    from question and quotes, so a model cannot forge them).
    """
    for note in exempt:
        text = text.replace(inert(note), " ").replace(note, " ")
    for quote in quotes:
        text = text.replace(render_quote(quote), " ")
    for quote in quotes:
        for part in (quote.text, quote.context):
            if part:
                text = text.replace(inert(" ".join(part.split())), " ").replace(" ".join(part.split()), " ")
    return text


def _cell(text: str) -> str:
    """A table cell on one line; a pipe would end the cell, so it becomes a slash."""
    return inert(one_line(text).replace("|", "/"))


def answer_section(number: int, answer: Answer) -> list[str]:
    """One answer of the export: the question, its alerts (title and loudness), our lines, quotes, doses."""
    view = answer_view(answer)
    parts = [f"## {number}. {inert(one_line(answer.question))}"]
    parts += [f"**{inert(alert.title)}** ({alert.loudness.value}): {inert(one_line(alert.text))}" for alert in view.alerts]
    head = [f"Answered as: {inert(view.follow_up)}"] if view.follow_up else []
    head += [inert(view.summary)] if view.summary else []
    notes = [inert(note) for note in view.notes]
    if view.abstained:
        return [*parts, *head, *notes, f"**{ABSTAIN_TITLE}.** {inert(view.lead)}"]
    if view.summary_withheld:
        parts.append(WITHHELD_NOTICE)
    parts += [*head, *notes]
    if view.dose_lead:
        parts.append(f"**{inert(view.dose_lead)}**")
    parts.append(render_answer(answer.lead, answer.quotes, answer.asked_as or answer.question))
    if view.dose_rows:
        columns = (*DOSE_COLUMNS, *DOSE_SOURCE_COLUMNS)
        table = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        table += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in view.dose_rows]
        parts.append("\n".join(table))
    parts.append(citations_block(answer))
    return parts


def citations_block(answer: Answer) -> str:
    """Every cited label with the reference text it resolves to in its own guideline, or a plain "no entry"."""
    lines: list[str] = []
    for quote in answer.quotes:
        entries = {reference.label: reference.text for reference in quote.references}
        for label in quote.citations:
            text = entries.get(label)
            line = (
                f"- {inert(f'[{label}] {one_line(text)}')}"
                if text
                else f"- {inert(f'[{label}]')} (no entry in the guideline's reference list)"
            )
            lines.append(f"{line} — {inert(quote.title or quote.source)}")
    unique = list(dict.fromkeys(lines))
    return "Citations:\n" + "\n".join(unique) if unique else "Citations: none"


def conversation_markdown(
    answers: Iterable[Answer], guidelines: Iterable[str] = (), header: ExportHeader | None = None
) -> str:
    """The conversation as a readable Markdown file: its header, then text as written, every quote with its source."""
    names = "; ".join(guidelines)
    parts = [EXPORT_TITLE]
    if header is not None:
        parts.append("\n".join(header.lines()))
    parts.append(f"*{DISCLAIMER}*")
    if names:
        parts.append(f"Guidelines: {inert(names)}")
    for number, answer in enumerate(answers, start=1):
        parts += answer_section(number, answer)
    return "\n\n".join(parts) + "\n"
