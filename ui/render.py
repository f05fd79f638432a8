"""Pure text helpers for the chat UI: alert kinds, section segments, dose rows, examples and exports.

Nothing here imports Streamlit, retrieves or checks doses; these functions only
turn an :class:`~assistant.answer.Answer` (and the parsed guideline it quotes)
into strings, so they can be tested without a running app.

Guideline text is shown with ``st.text`` (never Markdown): escaping is not enough,
because Streamlit turns ``https://…``, ``www.…``, ``a@b.org`` and ``:material/…:``
into links and icons even after backslash escapes. :func:`escape_markdown` is
for short strings in our own Markdown (titles in a table cell, user questions).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant import present
from assistant.answer import ABSTAIN_MESSAGE, Answer, Flag, FlagCode, Quote, Severity

DISCLAIMER = (
    "Decision support over the guidelines listed here, not medical advice. Every statement shown is "
    "quoted verbatim from a guideline with its citation labels; check it against the source and "
    "use clinical judgement."
)
EXPLANATION = (
    "Ask a clinical question in your own words. The answer is made of statements quoted verbatim "
    "from the guidelines in the library, the one that answers best first, each with its guideline, "
    "section and citations; doses are checked against the quoted text."
)
ABSTAIN_TITLE = "Not in the guidelines"
ABSTAIN_HINT = "Try the terms the guideline uses, or check which guidelines are chosen in the sidebar."
WITHHELD_NOTICE = present.WITHHELD_NOTICE
DIRECT_LABEL = present.DIRECT_LABEL
SUPPORTING_LABEL = present.SUPPORTING_LABEL
DOSE_COLUMNS = (*present.DOSE_COLUMNS, *present.DOSE_SOURCE_COLUMNS)
MAX_UPLOAD_MB = 20
UPLOAD_TYPES = ("pdf", "md", "txt", "html")
FLAG_TITLES = {
    "dose_not_in_source": "Dose not in the guideline",
    "dose_mismatch": "Dose mismatch",
    "dose_unit_mismatch": "Dose unit mismatch",
    "dose_frequency_mismatch": "Dose frequency mismatch",
    "dose_not_specified": "Dose not specified",
    "dose_format_risk": "Dose format risk",
    "calculation": "Calculation",
    "calculation_refused": "No calculation",
}
_TENFOLD = re.compile(r"\b[\d,]+ times (?:larger|smaller) than the guideline dose")

# Narrow screens: the dose table turns into stacked "Column: value" rows (labels from the fixed
# column names), long words wrap, and block quotes keep full contrast. A constant, never built
# from guideline or user text.
_CELL_LABELS = "".join(
    f'[data-testid="stTable"] td:nth-of-type({n})::before {{ content: "{name}: "; font-weight: 600; }}'
    for n, name in enumerate(DOSE_COLUMNS, start=1)
)
PAGE_STYLE = (
    "<style>"
    "[class*='st-key-ga-quote-'] { border-left: 3px solid #9aa0a6; padding-left: 0.75rem; }"
    "[class*='st-key-ga-quote-d'] { border-left: 4px solid #1a7f37; background: rgba(26,127,55,0.06);"
    " padding: 0.5rem 0.75rem; border-radius: 0 0.5rem 0.5rem 0; }"
    "[class*='st-key-ga-ctx-'] [data-testid='stText'] { font-style: italic; color: #555; }"
    "[class*='st-key-ga-group-'] [data-testid='stText'] { font-weight: 600; }"
    "[class*='st-key-ga-calc-'] { border: 1px solid #c7c9cc; border-radius: 0.5rem; padding: 0.75rem;"
    " background: rgba(120,120,120,0.06); }"
    "[class*='st-key-ga-alert-'] { gap: 0.25rem; padding: 0 0.75rem 0.75rem 0; border-radius: 0.5rem; }"
    "[class*='st-key-ga-alert-error-'] { background: rgba(255,43,43,0.07); }"
    "[class*='st-key-ga-alert-warning-'] { background: rgba(255,189,69,0.12); }"
    "[class*='st-key-ga-alert-'] > div:not(:first-child) { padding-left: 0.75rem; }"
    "[class*='st-key-ga-hl-'] { background: rgba(255,170,0,0.25); border-radius: 0.25rem; padding: 0 0.25rem; }"
    "[data-testid='stText'] { white-space: pre-wrap; overflow-wrap: anywhere; }"
    "[data-testid='stChatMessage'] blockquote { opacity: 1; }"
    "[data-testid='stTable'] td { overflow-wrap: anywhere; }"
    "@media (max-width: 640px) {"
    " [data-testid='stTable'] table, [data-testid='stTable'] tbody, [data-testid='stTable'] tr,"
    " [data-testid='stTable'] td { display: block; width: 100% !important; }"
    " [data-testid='stTable'] thead { display: none; }"
    " [data-testid='stTable'] tr { border-bottom: 2px solid #ddd; padding: 0.25rem 0; }"
    " [data-testid='stTable'] td { border: none; padding: 0.1rem 0.25rem; box-sizing: border-box;"
    " white-space: normal !important; max-width: 100% !important; }"
    " [data-testid='stTable'] table { table-layout: fixed; width: 100% !important; }"
    f" {_CELL_LABELS}"
    "}"
    "</style>"
)

# Every ASCII punctuation character may be backslash-escaped in CommonMark, so escaping
# generously is always safe; these are the ones Markdown, GFM, Streamlit directives
# (:color[...]), emoji shortcodes (:smile:) and LaTeX ($) give meaning to.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=^&\"'])")
_LEADING_SPACE = re.compile(r"(?m)^[ \t]+")


def escape_markdown(text: str) -> str:
    """Text that ``st.markdown`` shows as written, line breaks included (links and icons aside: use st.text)."""
    escaped = _SPECIAL.sub(r"\\\1", text.replace("\r\n", "\n"))
    # Leading spaces would make an indented code block; non-breaking spaces keep the indent visible.
    escaped = _LEADING_SPACE.sub(lambda match: "\u00a0" * len(match.group().expandtabs(4)), escaped)
    return escaped.replace("\n", "  \n")


def status_line(statements: int, guidelines: int, up_to_date: bool) -> str:
    """The line under the title: what the answers come from, and whether the index is current."""
    state = "index up to date" if up_to_date else "index not up to date (see Advanced in the sidebar)"
    return f"{statements} statements from {guidelines} guideline(s) · {state} · decision support, not medical advice"


# --------------------------------------------------------------------------- alerts


def flag_title(flag: Flag) -> str:
    """A flag's short title from its code (our own words, never guideline text)."""
    title = FLAG_TITLES.get(flag.code.value, flag.code.value.replace("_", " ").capitalize())
    if flag.code is FlagCode.DOSE_MISMATCH and _TENFOLD.search(flag.message):
        return "Tenfold dose error"
    return title


def alert_kind(flag: Flag) -> str:
    """How loudly a flag is shown: ``error`` (red), ``warning`` (amber) or ``calculation`` (neutral).

    Block flags, unit mismatches and tenfold slips are red; other mismatches amber; a
    calculation is arithmetic, not a warning, unless it was refused.
    """
    if flag.code is FlagCode.CALCULATION or (
        flag.code is FlagCode.CALCULATION_REFUSED and flag.severity is Severity.INFO
    ):
        return "calculation"
    if flag.severity is Severity.BLOCK or flag.code is FlagCode.DOSE_UNIT_MISMATCH or _TENFOLD.search(flag.message):
        return "error"
    return "warning"


def sorted_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Red first, then amber, then calculations; each distinct message once."""
    order = {"error": 0, "warning": 1, "calculation": 2}
    unique = {(flag.code, flag.message): flag for flag in flags}
    return sorted(unique.values(), key=lambda flag: order[alert_kind(flag)])


def visible_notes(answer: Answer) -> list[str]:
    """The answer's own notes that no alert already shows, so each message appears once."""
    shown = {flag.message for flag in answer.guardrail.flags}
    return list(dict.fromkeys(note for note in answer.notes if note not in shown))


# --------------------------------------------------------------------------- whole-section views


class _Section(Protocol):
    title: str | None
    start: int
    end: int


class _Document(Protocol):
    raw: str

    @property
    def sections(self) -> Sequence[_Section]: ...


def find_section(document: _Document, quote: Quote) -> _Section | None:
    """The section whose span holds the quote (by offset, as titles may repeat)."""
    for section in document.sections:
        if section.start <= quote.start < section.end:
            return section
    return None


def section_segments(document: _Document, quotes: Sequence[Quote]) -> list[tuple[str, bool]]:
    """The whole section of the first quote as ``(text, highlighted)`` pieces, the quotes highlighted.

    A quote is highlighted only where the text still holds it at its offsets, so a
    changed file is never highlighted wrongly.
    """
    section = find_section(document, quotes[0]) if quotes else None
    if section is None:
        return []
    raw = document.raw
    marks = sorted(
        (q.start, q.end)
        for q in quotes
        if section.start <= q.start < q.end <= section.end and raw[q.start : q.end] == q.text
    )
    pieces: list[tuple[str, bool]] = []
    offset = section.start
    for start, end in marks:
        if start < offset:
            continue
        pieces += [(raw[offset:start], False), (raw[start:end], True)]
        offset = end
    pieces.append((raw[offset : section.end], False))
    cleaned = [(text.strip("\n") if not marked else text, marked) for text, marked in pieces]
    return [(text, marked) for text, marked in cleaned if text.strip()]


# --------------------------------------------------------------------------- doses


def dose_rows(answer: Answer) -> list[dict[str, str]]:
    """One row per dose with its guideline, section and page; cells escaped for ``st.table`` (Markdown)."""
    rows = []
    for cells, where in zip(present.dose_cells(answer), present.dose_source_cells(answer), strict=True):
        rows.append(
            {column: escape_markdown(cell) for column, cell in zip(DOSE_COLUMNS, (*cells, *where), strict=True)}
        )
    return rows


# --------------------------------------------------------------------------- examples


@dataclass(frozen=True)
class GuidelineOutline:
    """What the examples are made from: a guideline's title, section titles and statement texts."""

    title: str
    sections: tuple[str, ...]
    statements: tuple[str, ...]


_DOSE = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:mg|g|mcg|µg|micrograms?|units?|IU|mL|mmol)\b")
_DRUG_SUFFIX = re.compile(
    r"(?i)^[a-z][a-z-]{3,}(?:cillin|mycin|micin|floxacin|cycline|azole|oxone|parin|statin|sartan|pril|olol|mab|"
    r"nib|vir|sone|lone|olone|idine|amine|oprazole|profen|fenac|azepam|ide|ine|ate|ium|cin)$"
)
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9-]{2,}$")
_NOT_DRUGS = {"AND", "THE", "FOR", "NOT", "DOSE", "IV", "ICU", "NICE", "WHO", "BTS", "GP", "NHS"}
_GENERIC_SECTIONS = re.compile(r"(?i)^(references?|bibliography|introduction|background|summary|abstract|scope)\b")


def _drug_before(statement: str, position: int) -> str | None:
    """The nearest word before a dose that looks like a drug name (a suffix or an acronym such as IVIG)."""
    words = re.findall(r"[A-Za-z][A-Za-z0-9-]+", statement[:position])[-8:]
    for word in reversed(words):
        if _ACRONYM.match(word) and word not in _NOT_DRUGS:
            return word
        if _DRUG_SUFFIX.match(word):
            return word.lower()
    return None


def _topic(section: str) -> str:
    """A section title as words in a sentence: "First-Line Treatment" -> "first-line treatment", "IVIG" kept."""
    return " ".join(word if _ACRONYM.match(word) else word.lower() for word in section.split())


def example_questions(outlines: Sequence[GuidelineOutline], limit: int = 4) -> list[str]:
    """Three or four questions the library can answer: doses it states, then topics its sections cover."""
    per_guideline: list[list[str]] = []
    for outline in outlines:
        found: dict[str, str] = {}
        for statement in outline.statements:
            for match in _DOSE.finditer(statement):
                drug = _drug_before(statement, match.start())
                if drug:
                    found.setdefault(drug.lower(), drug)
        per_guideline.append(list(found.values()))
    # One drug from each guideline in turn, so a library's examples are not all from its first file.
    rounds = [
        drugs[n] for n in range(max(map(len, per_guideline), default=0)) for drugs in per_guideline if n < len(drugs)
    ]
    drugs = list(dict.fromkeys(rounds))
    questions = [f"What dose of {drug} is recommended?" for drug in drugs[:2]]
    topics = [
        (outline.title, section)
        for outline in outlines
        for section in outline.sections
        if section and section != outline.title and not _GENERIC_SECTIONS.match(section)
    ]
    for title, section in topics:
        if len(questions) >= limit:
            break
        questions.append(f"What does {title} say about {_topic(section)}?")
    if not questions:
        questions = [f"What does {outline.title} recommend?" for outline in outlines[:limit]]
    return list(dict.fromkeys(questions))[:limit]


# --------------------------------------------------------------------------- uploads


def safe_upload_name(name: str) -> str | None:
    """A file name safe to write in the corpus folder (letters, digits, ``.-_``), or None if unusable.

    Folders are dropped (``../../x.md`` -> ``x.md``), so a name can never point outside the folder.
    """
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, ext = base.rpartition(".")
    ext = ext.lower()
    if not dot or ext not in (*UPLOAD_TYPES, "htm", "markdown"):
        return None
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-_")[:100]
    return f"{stem}.{ext}" if stem else None


# --------------------------------------------------------------------------- exports


def conversation_json(answers: Iterable[Answer]) -> str:
    """The conversation as a JSON list of answers in the answer schema (``Answer.model_dump``)."""
    return json.dumps([answer.model_dump(mode="json") for answer in answers], indent=2, ensure_ascii=False)


def _cell(text: str) -> str:
    """A table cell on one line; a pipe would end the cell, so it becomes a slash."""
    return present.one_line(text).replace("|", "/")


def conversation_markdown(answers: Iterable[Answer], guidelines: Iterable[str] = ()) -> str:
    """The conversation as a readable Markdown file: text as written, every quote with its source."""
    names = "; ".join(guidelines)
    parts = ["# Guideline assistant conversation", f"*{DISCLAIMER}*"]
    if names:
        parts.append(f"Guidelines: {names}")
    for number, answer in enumerate(answers, start=1):
        parts.append(f"## {number}. {present.one_line(answer.question)}")
        for flag in sorted_flags(answer.guardrail.flags):
            parts.append(f"**{flag_title(flag)}** ({flag.severity.value}): {present.one_line(flag.message)}")
        if answer.abstained or not answer.quotes:
            parts += present.head_lines(answer, exclude=[f.message for f in answer.guardrail.flags])
            parts.append(f"**{ABSTAIN_TITLE}.** {answer.lead or ABSTAIN_MESSAGE}")
            continue
        if answer.summary_withheld:
            parts.append(WITHHELD_NOTICE)
        parts += present.head_lines(answer, exclude=[f.message for f in answer.guardrail.flags])
        parts.append(present.render_answer(answer.lead, answer.quotes))
        if answer.doses:
            rows = [
                (*cells, *where)
                for cells, where in zip(present.dose_cells(answer), present.dose_source_cells(answer), strict=True)
            ]
            table = ["| " + " | ".join(DOSE_COLUMNS) + " |", "|" + " --- |" * len(DOSE_COLUMNS)]
            table += ["| " + " | ".join(_cell(cell) for cell in row) + " |" for row in rows]
            parts.append("\n".join(table))
        parts.append(f"Citations: {', '.join(answer.citations) or 'none'}")
    return "\n\n".join(parts) + "\n"
