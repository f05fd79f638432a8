"""Layout: lines -> blocks (headings, bullets, paragraphs, table rows), and which lines form a table.

Table detection and line grouping cannot be separated: a table line must never
be joined to the paragraph above it as a wrapped line, nor read as a heading,
so the grouping of lines into blocks lives here, next to the tables.

Dose tables are where a guideline states its regimens ("vancomycin | 125 mg |
four times daily | 10 days"). Joined into prose and cut at full stops, a row
loses its drug name or splits at "0.4 g/kg"; so each data row is kept whole as
one statement, and the header row travels with it as its lead-in: the row
"vancomycin | 125 mg | ..." is only readable next to "Drug | Dose | ...".

Two layouts are understood (PDF and HTML converters emit the first):

* Markdown pipe tables: a header row, a ``| --- |`` separator, data rows;
* plain-text rows ``a | b | c``: at least two neighbouring lines with the same
  number (>= 2) of cells.

In both, the first row is the header when it reads like one (short cells, no
sentences); converters sometimes put a data row first, and a header is never
quoted, so a first row full of sentences is kept as a data row instead. Rows of
one table may be separated by single blank lines (common in plain-text
exports). Ragged rows (fewer or more cells) are fine once a table is found. A
pipe inside short brackets ("(2|++OO)", an evidence grade) is not a cell border.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from assistant.ingest.lines import BRACKET, CITE_LIST, Line

_CELL_SPLIT = re.compile(r"(?<!\\)\|")
# A pipe inside short brackets is part of the text ("(2|++OO)" is an evidence grade), not a cell border.
_BRACKETED = re.compile(r"\([^()\n]{0,40}\)|\[[^\[\]\n]{0,40}\]")
_SEPARATOR = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?\|?[ \t]*$")
# Lines that are something else even when they hold a pipe.
_NOT_A_ROW = re.compile(r"^[ \t]*(?:#{1,6}[ \t]|[-*•‣◦▪][ \t]|\d{1,2}[.)][ \t])")
HEADER_CELL_MAX_CHARS = 60
HEADING_MAX_CHARS = 90
HEADING_MAX_WORDS = 12
TITLE_MAX_CHARS = 200
QUESTION_MAX_CHARS = 200

BULLET = re.compile(r"^(?P<indent>[ \t]*)(?:[-*•‣◦▪]|\d{1,2}[.)])[ \t]+")
# No lazy title group before "[ \t#]*$": that retried from every character (quadratic on long lines).
MD_HEADING = re.compile(r"^[ \t]{0,3}(?P<hashes>#{1,6})[ \t]+(?P<title>.*)$")
STOP_THEN_CITES = re.compile(rf"[.!?][\"”’')\]]*\s+{CITE_LIST}$")

Role = Literal["header", "separator", "row"]


@dataclass(frozen=True)
class TableLine:
    """A line that belongs to a table; ``start``/``end`` is the cell span, ``header`` the header's cell span."""

    role: Role
    start: int
    end: int
    header: str | None


def _cells(text: str) -> list[tuple[int, int]]:
    """Cell spans (within the line, whitespace trimmed) of a pipe-separated line; outer pipes dropped."""
    body_start = len(text) - len(text.lstrip())
    body_end = len(text.rstrip())
    if body_start < body_end and text[body_start] == "|":
        body_start += 1
    if body_end > body_start and text[body_end - 1] == "|" and (body_end < 2 or text[body_end - 2] != "\\"):
        body_end -= 1
    masked = _BRACKETED.sub(lambda match: "x" * len(match.group(0)), text)
    spans, begin = [], body_start
    for match in _CELL_SPLIT.finditer(masked, body_start, body_end):
        spans.append((begin, match.start()))
        begin = match.end()
    spans.append((begin, body_end))
    trimmed = []
    for left, right in spans:
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        trimmed.append((left, right))
    return trimmed


def _cell_count(line: Line) -> int:
    """How many cells the line has (0 when it is not a candidate table line)."""
    text = line.text
    if "|" not in text or _NOT_A_ROW.match(text):
        return 0
    count = len(_cells(text))
    return count if count >= 2 else 0


def cell_span(line: Line) -> tuple[int, int] | None:
    """Absolute offsets from the first non-empty cell's first character to the last one's last; None if empty."""
    filled = [(left, right) for left, right in _cells(line.text) if right > left]
    if not filled:
        return None
    return line.start + filled[0][0], line.start + filled[-1][1]


def _header_like(line: Line) -> bool:
    """A header names columns: short cells, none a sentence."""
    cells = [line.text[left:right] for left, right in _cells(line.text) if right > left]
    return bool(cells) and all(len(cell) <= HEADER_CELL_MAX_CHARS and not cell.endswith(".") for cell in cells)


def _runs(lines: Sequence[Line]) -> list[list[int]]:
    """Groups of candidate line numbers, neighbours at most one blank line apart."""
    runs: list[list[int]] = []
    current: list[int] = []
    blanks = 0
    for number, line in enumerate(lines):
        if not line.text.strip():
            blanks += 1
            continue
        if _cell_count(line):
            if current and blanks > 1:
                runs.append(current)
                current = []
            current.append(number)
        elif current:
            runs.append(current)
            current = []
        blanks = 0
    if current:
        runs.append(current)
    return runs


def find_tables(lines: Sequence[Line]) -> dict[int, TableLine]:
    """Every table line by line number; lines not in the result are not table lines."""
    found: dict[int, TableLine] = {}
    for run in _runs(lines):
        separators = {number for number in run if _SEPARATOR.match(lines[number].text)}
        counts = [_cell_count(lines[number]) for number in run if number not in separators]
        explicit = len(run) >= 2 and run[1] in separators
        if not explicit and not any(a == b for a, b in zip(counts, counts[1:], strict=False)):
            continue
        head = lines[run[0]]
        has_header = _header_like(head)  # a converter may put a data row first (sentences in the cells)
        header_span = cell_span(head) if has_header else None
        header = head.text[header_span[0] - head.start : header_span[1] - head.start] if header_span else None
        for position, number in enumerate(run):
            line = lines[number]
            span = cell_span(line) or (line.start, line.start)
            if number in separators:
                role: Role = "separator"
            elif position == 0 and has_header:
                role = "header"
            else:
                role = "row"
            found[number] = TableLine(role, span[0], span[1], header)
    return found


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class Block:
    """A run of lines the parser treats as one unit; ``lead`` is a table row's header."""

    kind: str  # "heading" | "md-heading" | "bullet" | "text" | "table_row"
    start: int
    end: int
    lead: str | None = None


def looks_like_heading(text: str) -> bool:
    """A short line with no terminal punctuation and no citations."""
    stripped = text.strip()
    if not stripped or len(stripped) > HEADING_MAX_CHARS or len(stripped.split()) > HEADING_MAX_WORDS:
        return False
    if BULLET.match(text) or stripped[-1] in '.!?:;,)"”' or BRACKET.search(stripped):
        return False
    if re.search(rf"\s{CITE_LIST}$", stripped):  # ends in a citation list ("... 4, 5", "... 1–3")
        return False
    return stripped[0].isupper() or stripped[0].isdigit()


def heading_shaped(text: str) -> bool:
    """One short line that reads as a heading once a trailing number goes ("Recommendation 1", "KAS 2")."""
    if "\n" in text or len(text) > HEADING_MAX_CHARS + 20:
        return False
    return looks_like_heading(re.sub(rf"\s+{CITE_LIST}\s*$", "", text))


def is_question_heading(text: str, after: str) -> bool:
    """A short question alone on its line, followed by body text ("What is the recommended dose?")."""
    stripped = text.strip()
    if not stripped.endswith("?") or stripped.count("?") != 1 or len(stripped) > QUESTION_MAX_CHARS:
        return False
    if not (stripped[0].isupper() or stripped[0].isdigit()) or re.search(r"[a-z]{2}[.!]\s", stripped):
        return False  # a paragraph that ends in a question, not a question standing alone
    after = after.strip()
    return bool(after) and not MD_HEADING.match(after) and not after.endswith("?")


def is_title_line(text: str, following: str) -> bool:
    """The first line of a plain-text file that names it: no terminal punctuation, up to ~200 characters."""
    stripped = text.strip()
    if not stripped or len(stripped) > TITLE_MAX_CHARS or stripped[-1] in ".!?:;,":
        return False
    if BRACKET.search(stripped) or STOP_THEN_CITES.search(stripped[-120:]) or following[:1].islower():
        return False
    return stripped[0].isupper() or stripped[0].isdigit()


def ends_sentence(text: str) -> bool:
    """Whether a line ends a sentence (so the next line starts a new block)."""
    stripped = text.rstrip()
    return bool(stripped) and (stripped[-1] in '.!?:;"”)]' or bool(STOP_THEN_CITES.search(stripped[-120:])))


def _next_non_blank(lines: Sequence[Line]) -> list[str]:
    """For each line, the text of the next non-blank line after it ("" at the end)."""
    upcoming = [""] * (len(lines) + 1)
    for number in range(len(lines) - 2, -1, -1):
        following = lines[number + 1].text
        upcoming[number] = following if following.strip() else upcoming[number + 1]
    return upcoming


def blocks(
    lines: Sequence[Line], tables: dict[int, TableLine], plain_title: bool, explicit_headings: bool = False
) -> Iterator[Block]:
    """Group lines into blocks: headings, bullets, text paragraphs and table rows.

    Wrapped lines are joined: an indented line after a bullet continues it, and a
    text line continues the previous text line when that one ended mid-sentence.
    Table lines are never joined to prose and never headings; header and separator
    lines yield nothing. With ``plain_title`` a long first line names the document. With
    ``explicit_headings`` (canonical text from a PDF or web page, whose reader marks real
    headings with ``#``) a short plain line is text: in a PDF it is an algorithm box or a
    table cell ("Consider tranexamic acid 1 g IV"), and its dose must stay quotable.
    """
    upcoming = _next_non_blank(lines)
    current: list = []  # [kind, start, end, last_line_text]
    first = True
    for number, line in enumerate(lines):
        text = line.text
        if number in tables or not text.strip():
            if current:
                yield Block(current[0], current[1], current[2])
                current = []
            row = tables.get(number)
            if row is not None and row.role == "row" and row.end > row.start:
                yield Block("table_row", row.start, row.end, row.header)
            first = first and row is None
            continue
        following = lines[number + 1].text.lstrip() if number + 1 < len(lines) else ""
        md = MD_HEADING.match(text)
        bullet = BULLET.match(text)
        continues = current and (
            (current[0] == "bullet" and not bullet and not md and text[:1] in " \t")
            or (current[0] == "text" and not bullet and not md and not ends_sentence(current[3]))
        )
        if continues:
            current[2], current[3] = line.end, text
            continue
        if current:
            yield Block(current[0], current[1], current[2])
        if md:
            kind = "md-heading"
        elif bullet:
            kind = "bullet"
        elif explicit_headings:
            kind = "text"
        elif looks_like_heading(text) and not following[:1].islower():
            kind = "heading"
        elif (first and plain_title and is_title_line(text, following)) or is_question_heading(text, upcoming[number]):
            kind = "heading"
        else:
            kind = "text"
        first = False
        current = [kind, line.start, line.end, text]
    if current:
        yield Block(current[0], current[1], current[2])


def heading_text(line: str, kind: str) -> str:
    """A heading's name: Markdown hashes (leading and closing) dropped."""
    if kind == "md-heading":
        match = MD_HEADING.match(line)
        return match.group("title").rstrip(" \t#").strip() if match else line.strip("# \t")
    return line.strip()
