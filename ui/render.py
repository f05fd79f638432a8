"""Pure text helpers for the chat UI: Markdown for answers, sections, dose rows and exports.

Nothing here imports Streamlit, retrieves or checks doses; these functions only
turn an :class:`~assistant.answer.Answer` (and the parsed guideline it quotes)
into strings, so they can be tested without a running app.

Every piece of guideline or user text goes through :func:`escape_markdown`
before it reaches ``st.markdown``: a question containing ``<script>`` or ``**``
must appear literally, and a guideline sentence must never turn into a list,
a heading, LaTeX (``$``), a Streamlit directive or an emoji (``:``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from assistant import present
from assistant.answer import ABSTAIN_MESSAGE, Answer, Flag, Quote, Severity

if TYPE_CHECKING:
    from assistant.ingest.parser import Document, Section

DISCLAIMER = (
    "Decision support over the guideline listed here, not medical advice. Every statement shown is "
    "quoted verbatim from the guideline with its citation labels; check it against the source and "
    "use clinical judgement."
)
ABSTAIN_TITLE = "Not in the guideline"
EXAMPLE_QUESTIONS = (
    "What IVIG dose is used in warm AIHA?",
    "Can IVIG replace steroids?",
    "What is second-line treatment for warm AIHA?",
    "Should I give IVIG 10 g/kg?",
)
# A constant style sheet, never built from guideline or user text. Streamlit fades block
# quotes to 60 % opacity, below WCAG contrast, and the quotes are what a clinician reads.
PAGE_STYLE = "<style>[data-testid='stChatMessage'] blockquote { opacity: 1; }</style>"
DOSE_COLUMNS = present.DOSE_COLUMNS
WITHHELD_NOTICE = present.WITHHELD_NOTICE
FLAG_TITLES = {
    "dose_not_in_source": "Dose not in the guideline",
    "dose_mismatch": "Dose mismatch",
    "dose_unit_mismatch": "Dose unit mismatch",
    "dose_frequency_mismatch": "Dose frequency mismatch",
    "dose_not_specified": "Dose not specified",
    "dose_format_risk": "Dose format risk",
    "calculation": "Calculation",
    "calculation_refused": "Calculation refused",
}

# Every ASCII punctuation character may be backslash-escaped in CommonMark, so escaping
# generously is always safe; these are the ones Markdown, GFM, Streamlit directives
# (:color[...]), emoji shortcodes (:smile:) and LaTeX ($) give meaning to.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=^&\"'])")
_LEADING_SPACE = re.compile(r"(?m)^[ \t]+")


def escape_markdown(text: str) -> str:
    """Text that ``st.markdown`` shows exactly as written, line breaks included."""
    escaped = _SPECIAL.sub(r"\\\1", text.replace("\r\n", "\n"))
    # Leading spaces would make an indented code block; non-breaking spaces keep the indent visible.
    escaped = _LEADING_SPACE.sub(lambda match: "\u00a0" * len(match.group().expandtabs(4)), escaped)
    return escaped.replace("\n", "  \n")


def citation_chips(labels: Iterable[str]) -> str:
    """``["4", "5"]`` -> two grey badges reading ``[4]`` and ``[5]``."""
    return " ".join(f":gray-badge[{escape_markdown(f'[{label}]')}]" for label in labels)


def lead_line(answer: Answer) -> str:
    """Our own sentences above the quotes: the summary (unless withheld), the notes, then the lead line."""
    parts = [answer.summary] if answer.summary and not answer.summary_withheld else []
    return "\n\n".join([*parts, *answer.notes, answer.lead])


def quote_markdown(quote: Quote) -> str:
    """One quoted statement as a block quote: its lead-in (for bullets) in italics, then text and chips."""
    lines = []
    if quote.context:
        lines += [f"> *{escape_markdown(quote.context)}*", ">"]
    chips = citation_chips(quote.citations)
    lines.append(f"> {escape_markdown(quote.text)}" + (f" {chips}" if chips else ""))
    return "\n".join(lines)


def quote_location(quote: Quote) -> str:
    """Where a quote comes from: ``section · source`` and, for a PDF, ``p. 12``."""
    page = f"p. {quote.page_label or quote.page}" if quote.page else None
    return " · ".join(part for part in (quote.section, quote.source, page) if part)


def flag_markdown(flag: Flag) -> str:
    """A guardrail flag: a bold title from its code, then its message."""
    title = FLAG_TITLES.get(flag.code.value, flag.code.value.replace("_", " ").capitalize())
    return f"**{escape_markdown(title)}.** {escape_markdown(flag.message)}"


def find_section(document: Document, quote: Quote) -> Section | None:
    """The section whose span holds the quote (by offset, as titles may repeat)."""
    for section in document.sections:
        if section.start <= quote.start < section.end:
            return section
    return None


def section_markdown(document: Document, quote: Quote) -> str:
    """The whole section a quote comes from, with the quoted statement highlighted.

    Falls back to the plain section (no highlight) when the file no longer holds
    the quote at its offsets, so a changed file is never highlighted wrongly.
    """
    section = find_section(document, quote)
    if section is None:
        return ""
    raw = document.raw
    if raw[quote.start : quote.end] != quote.text:
        return escape_markdown(raw[section.start : section.end].strip("\n"))
    lines: list[str] = []
    offset = section.start
    for line in raw[section.start : section.end].split("\n"):
        begin, end = offset, offset + len(line)
        offset = end + 1
        low, high = max(begin, quote.start), min(end, quote.end)
        if low >= high:
            is_title = section.title is not None and line.strip() == section.title
            lines.append(f"**{escape_markdown(line.strip())}**" if is_title else escape_markdown(line))
            continue
        before, marked, after = line[: low - begin], line[low - begin : high - begin], line[high - begin :]
        lines.append(
            escape_markdown(before) + f":orange-background[**{escape_markdown(marked)}**]" + escape_markdown(after)
        )
    while lines and not lines[-1].strip():
        lines.pop()
    return "  \n".join(lines)


def dose_rows(answer: Answer) -> list[dict[str, str]]:
    """One row per dose in the quoted statements, cells escaped for ``st.table`` (which renders Markdown)."""
    return [
        {column: escape_markdown(cell) for column, cell in zip(DOSE_COLUMNS, cells, strict=True)}
        for cells in present.dose_cells(answer)
    ]


def conversation_json(answers: Iterable[Answer]) -> str:
    """The conversation as a JSON list of answers in the answer schema (``Answer.model_dump``)."""
    return json.dumps([answer.model_dump(mode="json") for answer in answers], indent=2, ensure_ascii=False)


def conversation_markdown(answers: Iterable[Answer], documents: Iterable[str] = ()) -> str:
    """The conversation as a Markdown document: each question, its flags, quotes, sources and doses."""
    names = ", ".join(documents)
    parts = ["# Guideline assistant conversation", f"*{escape_markdown(DISCLAIMER)}*"]
    if names:
        parts.append(f"Guideline: {escape_markdown(names)}")
    for number, answer in enumerate(answers, start=1):
        parts.append(f"## {number}. {escape_markdown(answer.question)}")
        for flag in answer.guardrail.flags:
            parts.append(f"**{flag.severity.value.upper()}** — {flag_markdown(flag)}")
        if answer.abstained or not answer.quotes:
            parts.append(f"**{ABSTAIN_TITLE}.** {escape_markdown(answer.lead or ABSTAIN_MESSAGE)}")
            continue
        parts.append(escape_markdown(lead_line(answer)))
        for quote in answer.quotes:
            chips = " ".join(f"\\[{escape_markdown(label)}\\]" for label in quote.citations)
            context = f"> *{escape_markdown(quote.context)}*\n>\n" if quote.context else ""
            parts.append(f"{context}> {escape_markdown(quote.text)} {chips}".rstrip())
            parts.append(f"*Source: {escape_markdown(quote_location(quote))}*")
        if answer.doses:
            table = ["| " + " | ".join(DOSE_COLUMNS) + " |", "|" + " --- |" * len(DOSE_COLUMNS)]
            table += ["| " + " | ".join(row.values()) + " |" for row in dose_rows(answer)]
            parts.append("\n".join(table))
        parts.append(f"Citations: {escape_markdown(', '.join(answer.citations)) or 'none'}")
    return "\n\n".join(parts) + "\n"


def severity_rank(flag: Flag) -> int:
    """Block flags first, then warnings, then notes."""
    return {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}[flag.severity]
