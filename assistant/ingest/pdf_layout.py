"""Page layout for PDF extraction: words into lines, and lines into reading order.

Words are grouped into lines; running headers, footers and page numbers are
dropped; a page is split into columns (and into bands where titles or wide
tables cross the gutter) and read left column first; right-margin notes
(grades, evidence levels) are attached to the body line they sit beside.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

from assistant.ingest.pdf_text import Stats

_PAGE_NUMBER = re.compile(
    r"^(?:page\s*)?(?:\d{1,4}|[ivxlc]{1,7})(?:\s*(?:of|/)\s*\d{1,4})?$|^[-–—]\s*\d{1,4}\s*[-–—]$", re.IGNORECASE
)
_HEADER_FOOTER_LINES = 3  # how many lines at the top and at the bottom of a page may be running heads
_MARGIN_NOTE_MAX_CHARS = 24  # a margin note ("A", "Evidence level 2++") is short on every line


# --------------------------------------------------------------------------- geometry


@dataclass
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


class Line:
    """Words on one baseline within one column, plus margin notes that sit beside it."""

    def __init__(self, word: Word) -> None:
        self.words = [word]
        self.core = word  # the largest word: what other words must line up with
        self.top, self.bottom, self.x1 = word.top, word.bottom, word.x1
        self.page = 0
        self.column = 0
        self.column_right = 0.0
        self.notes: list[str] = []

    def add(self, word: Word) -> None:
        self.words.append(word)
        if word.size > self.core.size and word.top <= self.core.top and word.bottom >= self.core.bottom:
            self.core = word  # a superscript came first; the word that encloses it is the line's main word
        self.top, self.bottom, self.x1 = min(self.top, word.top), max(self.bottom, word.bottom), max(self.x1, word.x1)

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @cached_property
    def size(self) -> float:
        counts: Counter[float] = Counter()
        for word in self.words:
            counts[word.size] += len(word.text)
        return counts.most_common(1)[0][0]

    @cached_property
    def bold(self) -> bool:
        total = sum(len(w.text) for w in self.words)
        return sum(len(w.text) for w in self.words if w.bold) >= 0.8 * total

    @cached_property
    def text(self) -> str:
        """Words joined by spaces, except a superscript or split glyph that touches the word before."""
        out = self.words[0].text
        for before, word in itertools.pairwise(self.words):
            out += ("" if word.x0 - before.x1 < 0.1 * word.size else " ") + word.text
        return out


@dataclass
class Table:
    rows: list[list[str]]
    x0: float
    x1: float
    top: float
    bottom: float
    page: int = 0


@dataclass
class Page:
    number: int
    width: float
    height: float
    words: list[Word]
    tables: list[Table]


Item = Line | Table


# --------------------------------------------------------------------------- lines


def cluster_lines(words: Iterable[Word]) -> list[Line]:
    """Group words into lines: a word joins a line whose main word it overlaps vertically by half its height.

    Comparing with the line's largest word (not its growing extent) keeps two
    rows of small print beside one large title line apart, while superscripts
    still join the line they belong to.
    """
    lines: list[Line] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        best, best_overlap = None, 0.0
        for line in lines[-4:]:
            core = line.core
            if not 0.5 <= word.size / core.size <= 2.0:
                continue
            overlap = min(core.bottom, word.bottom) - max(core.top, word.top)
            if overlap >= 0.5 * (min(core.bottom - core.top, word.bottom - word.top) or 1.0) and overlap > best_overlap:
                best, best_overlap = line, overlap
        if best is None:
            lines.append(Line(word))
        else:
            best.add(word)
    for line in lines:
        line.words.sort(key=lambda w: w.x0)
    lines.sort(key=lambda line: line.top)
    return lines


# --------------------------------------------------------------------------- running headers and footers


def _running_key(line: Line) -> str:
    """A running line's identity: digits, "Page" and "of" ignored, since page numbers shift the wrapping."""
    tokens = re.sub(r"\d+", "#", line.text.lower()).split()
    return " ".join(t for t in tokens if t not in ("page", "of", "#", "/", "-", "–"))


def _edge_lines(page: Page) -> list[Line]:
    """Up to three lines in the top and bottom 15% of the page: where running heads and feet live."""
    lines = cluster_lines(page.words)
    top = [line for line in lines[:_HEADER_FOOTER_LINES] if line.top < 0.15 * page.height]
    bottom = [line for line in lines[-_HEADER_FOOTER_LINES:] if line.bottom > 0.85 * page.height]
    return top + [line for line in bottom if line not in top]


def drop_running_lines(pages: list[Page], stats: Stats) -> None:
    """Drop lines near the top/bottom edge that repeat on many pages (digits ignored), and page numbers."""
    edges = {page.number: _edge_lines(page) for page in pages}
    seen: Counter[str] = Counter()
    for lines in edges.values():
        seen.update({_running_key(line) for line in lines})
    threshold = max(2 if len(pages) == 2 else 3, math.ceil(0.15 * len(pages)))
    for page in pages:
        numbers = [line for line in edges[page.number] if _PAGE_NUMBER.match(line.text.strip())]
        running = [
            line
            for line in edges[page.number]
            if line not in numbers and _running_key(line) and seen[_running_key(line)] >= threshold
        ]
        if sum(len(line.words) for line in numbers + running) >= len(page.words):
            running = []  # a page of one repeated line ("Statement 7 of ...") is content, not a running head
        drop = {id(w) for line in numbers + running for w in line.words}
        stats.counts["running"] += len(numbers) + len(running)
        page.words = [w for w in page.words if id(w) not in drop]


# --------------------------------------------------------------------------- reading order


def coverage_runs(words: Sequence[Word], lo: float, hi: float, pad: float) -> tuple[int, list[tuple[float, float]]]:
    """The least number of words covering any x in [lo, hi), and the x-runs where that minimum holds."""
    size = max(1, int(hi - lo))
    cover = [0] * size
    for word in words:
        for i in range(max(0, int(word.x0 - pad - lo)), min(size, int(math.ceil(word.x1 + pad - lo)))):
            cover[i] += 1
    least = min(cover)
    runs = []
    for is_min, group in itertools.groupby(enumerate(cover), lambda pair: pair[1] == least):
        if is_min:
            bins = [i for i, _count in group]
            runs.append((lo + bins[0], lo + bins[-1] + 1))
    return least, runs


def _split_margin_notes(words: list[Word], width: float) -> tuple[list[Word], list[Word]]:
    """Separate right-margin notes (grade letters, "Evidence level 2++") from the body text.

    Two kinds: a narrow column of short lines beyond a strip no word crosses,
    and a lone short mark ("A", "D", a tick) set well apart at the end of a line.
    """
    body, notes = _margin_column(words, width)
    marks = set()
    for line in cluster_lines(body):
        last = line.words[-1]
        before = line.words[-2] if len(line.words) > 1 else None
        if len(last.text) > 2 or any(ch.isdigit() for ch in last.text) or last.x0 < 0.8 * width:
            continue
        if before is None and last.x0 >= 0.85 * width or before and last.x0 - before.x1 >= 1.5 * line.size:
            marks.add(id(last))
    # a mark stands beyond the right edge of the text around it, not just after a wide justified gap
    others = [w for w in body if id(w) not in marks]
    marks = {
        id(w)
        for w in body
        if id(w) in marks and all(o.x1 < w.x0 for o in others if abs(o.middle - w.middle) < 3 * w.size)
    }
    if marks:
        notes += [w for w in body if id(w) in marks]
        body = [w for w in body if id(w) not in marks]
    return body, notes


def _margin_column(words: list[Word], width: float) -> tuple[list[Word], list[Word]]:
    if len(words) < 10:
        return words, []
    least, runs = coverage_runs(words, 0.72 * width, 0.97 * width, pad=3.0)
    if least > 0:
        return words, []
    for start, end in runs:
        x = (start + end) / 2
        notes = [w for w in words if w.x0 >= x]
        body = [w for w in words if w.x0 < x]
        note_lines = cluster_lines(notes)
        reaching = sum(1 for line in cluster_lines(body) if line.x1 >= x - 0.12 * width)
        if notes and reaching >= 3 and all(len(line.text) <= _MARGIN_NOTE_MAX_CHARS for line in note_lines):
            return body, notes
    return words, []


def _gutter(words: list[Word], left: float, right: float) -> float | None:
    """The x of a two-column gutter between ``left`` and ``right``, or ``None`` for a single column.

    The gutter is the vertical strip in the middle half crossed by the fewest
    words; there are two columns when at least three lines on each side reach
    up to it (short last lines of paragraphs and margin marks do not count).
    """
    width = right - left
    if len(words) < 10 or width < 100:
        return None
    _least, runs = coverage_runs(words, left + 0.2 * width, left + 0.8 * width, pad=3.0)
    middle = left + width / 2
    start, end = max(runs, key=lambda run: (run[1] - run[0], -abs((run[0] + run[1]) / 2 - middle)))
    x = (start + end) / 2
    full = _full_width_bands(words, x)
    left_words = [w for w in words if w.x1 <= x and not _in_bands(w, full)]
    right_words = [w for w in words if w.x0 >= x and not _in_bands(w, full)]
    reach_left = sum(1 for line in cluster_lines(left_words) if line.x1 >= x - 0.15 * width)
    reach_right = sum(1 for line in cluster_lines(right_words) if line.x0 <= x + 0.12 * width)
    return x if reach_left >= 3 and reach_right >= 3 else None


def _full_width_bands(words: Iterable[Word], x: float) -> list[tuple[float, float]]:
    bands = sorted((w.top - 1, w.bottom + 1) for w in words if w.x0 - 3 < x < w.x1 + 3)
    merged: list[tuple[float, float]] = []
    for top, bottom in bands:
        if merged and top <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], bottom))
        else:
            merged.append((top, bottom))
    return merged


def _in_bands(word: Word, bands: list[tuple[float, float]]) -> bool:
    return any(top <= word.middle <= bottom for top, bottom in bands)


def reading_order(page: Page) -> list[Item]:
    """Lines and tables of one page in reading order; margin notes ride on the line they sit beside."""
    words, notes = _split_margin_notes(page.words, page.width)
    ordered = _layout(words, page.tables, page, itertools.count(), depth=0)
    _attach_notes([item for item in ordered if isinstance(item, Line)], notes)
    return ordered


def _layout(words: list[Word], tables: list[Table], page: Page, ids: Iterator[int], depth: int) -> list[Item]:
    """Reading order of a region: one column top to bottom, or two columns split by full-width rows.

    Rows that cross the gutter (titles, abstracts, wide tables) split the region
    into bands; each band is read left column then right column, and the
    full-width rows are laid out again themselves, since a title can have a
    box of journal details beside it.
    """
    if not words and not tables:
        return []
    left_edge = min([w.x0 for w in words] + [t.x0 for t in tables])
    right_edge = max([w.x1 for w in words] + [t.x1 for t in tables])
    gutter = _gutter(words, left_edge, right_edge) if depth < 3 else None
    if gutter is None:
        return sorted(_column(words, tables, page, next(ids)), key=lambda item: item.top)
    bands = _full_width_bands(words, gutter)
    bands += [(t.top, t.bottom) for t in tables if t.x0 < gutter < t.x1]
    wide = [w for w in words if _in_bands(w, bands)]
    left = [w for w in words if not _in_bands(w, bands) and (w.x0 + w.x1) / 2 < gutter]
    right = [w for w in words if not _in_bands(w, bands) and (w.x0 + w.x1) / 2 >= gutter]
    columns = [
        sorted(_column(left, [t for t in tables if t.x1 <= gutter], page, next(ids)), key=lambda item: item.top),
        sorted(_column(right, [t for t in tables if t.x0 >= gutter], page, next(ids)), key=lambda item: item.top),
    ]
    wide_tables = [t for t in tables if t.x0 < gutter < t.x1]
    ordered: list[Item] = []
    for region_words, region_tables, top in _regions(wide, wide_tables, columns):
        for column in columns:
            while column and column[0].top < top:
                ordered.append(column.pop(0))
        ordered.extend(_layout(region_words, region_tables, page, ids, depth + 1))
    for column in columns:
        ordered.extend(column)
    return ordered


def _regions(
    words: list[Word], tables: list[Table], columns: list[list[Item]]
) -> list[tuple[list[Word], list[Table], float]]:
    """Group full-width words and tables into regions not interrupted by column text, top to bottom."""
    tops = sorted(item.top for column in columns for item in column)
    pieces: list[tuple[float, float, Word | Table]] = sorted(
        [(w.top, w.bottom, w) for w in words] + [(t.top, t.bottom, t) for t in tables], key=lambda piece: piece[0]
    )
    regions: list[tuple[list[Word], list[Table], float]] = []
    last_bottom = -math.inf
    for top, bottom, piece in pieces:
        interrupted = any(last_bottom <= column_top < top for column_top in tops)
        if not regions or interrupted:
            regions.append(([], [], top))
        if isinstance(piece, Table):
            regions[-1][1].append(piece)
        else:
            regions[-1][0].append(piece)
        last_bottom = max(last_bottom, bottom) if not interrupted else bottom
    return regions


def _column(words: list[Word], tables: list[Table], page: Page, column: int) -> list[Item]:
    lines = cluster_lines(words)
    right = max((line.x1 for line in lines), default=page.width)
    for line in lines:
        line.page, line.column, line.column_right = page.number, column, right
    return [*lines, *tables]


def _attach_notes(lines: list[Line], notes: list[Word]) -> None:
    """Each block of margin notes goes to the body line nearest its vertical centre."""
    if not notes or not lines:
        return
    blocks: list[list[Line]] = []
    for line in cluster_lines(notes):
        if blocks and line.top - blocks[-1][-1].bottom < 0.6 * line.size:
            blocks[-1].append(line)
        else:
            blocks.append([line])
    for block in blocks:
        middle = (block[0].top + block[-1].bottom) / 2
        target = min(lines, key=lambda line: abs((line.top + line.bottom) / 2 - middle))
        text = " ".join(line.text for line in block).replace("\u2022", "").strip()
        if text:
            target.notes.append(text)
