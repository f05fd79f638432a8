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
from typing import Protocol

from assistant import present
from assistant.answer import Answer, Flag, Quote

DISCLAIMER = present.DISCLAIMER
EXPLANATION = (
    "Ask a clinical question in your own words. The answer is made of statements quoted verbatim "
    "from the guidelines in the library, the one that answers best first, each with its guideline, "
    "section and citations; doses are checked against the quoted text."
)
ABSTAIN_TITLE = present.ABSTAIN_TITLE
ABSTAIN_HINT = "Try the terms the guideline uses, or check which guidelines are chosen in the sidebar."
WITHHELD_NOTICE = present.WITHHELD_NOTICE
DIRECT_LABEL = present.DIRECT_LABEL
CLOSEST_LABEL = present.CLOSEST_LABEL
SUPPORTING_LABEL = present.SUPPORTING_LABEL
DOSE_COLUMNS = (*present.DOSE_COLUMNS, *present.DOSE_SOURCE_COLUMNS)
MAX_UPLOAD_MB = 20
UPLOAD_TYPES = ("pdf", "md", "txt", "html")
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
    "[class*='st-key-ga-result-'] [data-testid='stText'] { font-weight: 700; font-size: 1.25rem; }"
    "[class*='st-key-ga-lead-'] [data-testid='stText'] { font-weight: 600; }"
    "[class*='st-key-ga-cites-'] button { min-height: 0; padding: 0 0.25rem; font-size: 0.8rem; }"
    "[class*='st-key-ga-hl-'] { background: rgba(255,170,0,0.25); border-radius: 0.25rem; padding: 0 0.25rem; }"
    "[data-testid='stText'] { white-space: pre-wrap; overflow-wrap: anywhere; }"
    "[data-testid='stChatMessage'] blockquote { opacity: 1; }"
    "[data-testid='stChatMessage'] { scroll-margin-top: 4.5rem; }"
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
# (:color[...]), emoji shortcodes (:smile:) and LaTeX ($) give meaning to. The "/" too: Streamlit
# rewrites a literal ":material/" into an icon before it reads escapes, so "\:material\/x\:" is needed.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=^&\"'/])")
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


# How each loudness of the flag policy is drawn on the page: a red or amber box, or a neutral panel.
ALERT_KINDS = {
    present.Loudness.DANGER: "error",
    present.Loudness.WARNING: "warning",
    present.Loudness.INFO: "calculation",
}
flag_title = present.flag_title
sorted_flags = present.sorted_flags
visible_notes = present.visible_notes


def alert_kind(flag: Flag | present.Alert) -> str:
    """How loudly a flag is drawn: ``error`` (red), ``warning`` (amber) or ``calculation`` (neutral).

    The loudness is the flag policy's (:mod:`assistant.present.policy`); only the drawing is the page's.
    """
    return ALERT_KINDS[flag.loudness if isinstance(flag, present.Alert) else present.loudness(flag)]


_SUPERSCRIPT = str.maketrans("0123456789,", "⁰¹²³⁴⁵⁶⁷⁸⁹˒")


def superscript_labels(labels: Sequence[str]) -> str:
    """Citation labels with no reference entry, as plain superscripts ("¹ ³"); other labels in brackets."""
    return " ".join(label.translate(_SUPERSCRIPT) if label.isdigit() else f"[{label}]" for label in labels)


def quote_line(quote: Quote) -> str:
    """The statement as written, then superscripts for its labels that have no reference entry.

    A label already printed in the statement ("…started [1].") is not repeated;
    labels the reference list resolves are chips below it instead.
    """
    entries = {reference.label for reference in quote.references}
    plain = [label for label in present.trailing_labels(quote) if label not in entries]
    return f"{quote.text} {superscript_labels(plain)}" if plain else quote.text


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
    rows = present.answer_view(answer).dose_rows
    return [{column: escape_markdown(cell) for column, cell in zip(DOSE_COLUMNS, row, strict=True)} for row in rows]


# --------------------------------------------------------------------------- examples


GuidelineOutline = present.GuidelineOutline
example_questions = present.example_questions


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


conversation_markdown = present.conversation_markdown
