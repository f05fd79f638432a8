"""Canonical text from PDF lines: paragraphs, bullet items, headings and tables, with page offsets.

Lines arrive in reading order; they are grouped into blocks (a paragraph that
continues across a column or page break is joined again), headings are told
from body text by size, weight and shape, and each block is written in the
Markdown subset of :mod:`assistant.ingest.extracted`.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field

from assistant.ingest.pdf_layout import Item, Line, Page, Table
from assistant.ingest.pdf_tables import render_table
from assistant.ingest.pdf_text import Stats, fix_text, join_pair

_BULLET_GLYPHS = frozenset("•·▪▫●○◦‣∙■□➢➤►▶✓✔-–－")
_NUMBERED_HEADING = re.compile(r"^\d{1,2}(?:\.\d{1,2}){0,3}\.?\s+[A-Z]")
_ENDS_SENTENCE = ".!?:;]"


# --------------------------------------------------------------------------- blocks and output


def body_size(pages: list[Page]) -> float:
    """The font size most characters are set in: headings are larger, footnotes smaller."""
    counts: Counter[float] = Counter()
    for page in pages:
        for word in page.words:
            counts[word.size] += len(word.text)
    return counts.most_common(1)[0][0] if counts else 10.0


@dataclass
class _Block:
    kind: str  # "para" | "bullet" | "table"
    lines: list[Line] = field(default_factory=list)
    table: Table | None = None


class Writer:
    """Turns the page-ordered stream of lines and tables into canonical text and page offsets."""

    def __init__(self, items: list[Item], body_size: float, stats: Stats) -> None:
        self.items = items
        self.body = body_size
        self.stats = stats
        self.pitch = self._typical_pitch()
        self._title_size = math.inf
        self._title_done = False

    def _typical_pitch(self) -> dict[float, float]:
        """Baseline-to-baseline distance of consecutive lines, per font size: more than that is a new paragraph."""
        samples: dict[float, list[float]] = {}
        lines = [item for item in self.items if isinstance(item, Line)]
        for before, line in itertools.pairwise(lines):
            pitch = line.bottom - before.bottom
            if (before.page, before.column) == (line.page, line.column) and before.size == line.size:
                if 0.8 * line.size < pitch < 2.5 * line.size:
                    samples.setdefault(line.size, []).append(pitch)
        return {size: statistics.median(values) for size, values in samples.items()}

    # ---- classification

    def _styled(self, line: Line) -> bool:
        """Set larger than body text, or wholly bold: a heading if the block turns out short."""
        return (line.size >= 1.12 * self.body and line.size - self.body >= 1.0) or line.bold

    def _is_bullet(self, line: Line) -> bool:
        first = line.words[0].text
        return first in _BULLET_GLYPHS and len(line.words) > 1 or (first[:1] in "•▪●◦‣" and len(first) > 1)

    def _continues(self, block: _Block, line: Line) -> bool:
        """Does ``line`` continue the paragraph or bullet item ``block``?"""
        if block.kind == "table" or self._is_bullet(line):
            return False
        last = block.lines[-1]
        if self._styled(last) != self._styled(line) or abs(last.size - line.size) > 0.4:
            return False
        pitch = line.bottom - last.bottom
        close = 0 < pitch <= 1.3 * self.pitch.get(line.size, 1.2 * line.size) + 0.5
        beneath = last.page == line.page and close and line.x0 < last.x1 and last.x0 < line.x1
        if (last.page, last.column) != (line.page, line.column) and not beneath:
            # a column or page break: only an unfinished sentence carries over
            return not self._styled(line) and last.text[-1] not in _ENDS_SENTENCE
        if not close:
            return False
        if self._styled(line):
            return (last.size, last.bold) == (line.size, line.bold)
        if block.kind == "bullet":
            item_start = block.lines[0].words[min(1, len(block.lines[0].words) - 1)].x0  # after the bullet glyph
            return line.x0 >= item_start - 0.5 * line.size or self._full(last, line)
        if line.x0 > last.x0 + 0.8 * line.size and len(block.lines) > 1:
            return False  # first-line indent of a new paragraph
        return self._full(last, line)

    def _full(self, last: Line, line: Line) -> bool:
        """The previous line was filled: the next line's first word would not have fitted on it."""
        first = line.words[0]
        return last.column_right - last.x1 < (first.x1 - first.x0) + 1.5 * line.size

    # ---- blocks

    def _blocks(self) -> list[_Block]:
        """Group lines into paragraphs, bullet items and tables.

        Small print at the foot of a column (affiliations, copyright lines) must
        not cut a sentence that goes on in the next column: such a sentence is
        continued in its paragraph and the small print follows it.
        """
        blocks: list[_Block] = []
        current: _Block | None = None
        unfinished: _Block | None = None  # last body paragraph, followed by small print only
        for item in self.items:
            if isinstance(item, Table):
                blocks.append(_Block("table", table=item))
                current = unfinished = None
                continue
            if current is not None and self._continues(current, item):
                current.lines.append(item)
                continue
            if (
                unfinished is not None
                and unfinished is not current
                and unfinished.lines[-1].page == item.page
                and self._continues(unfinished, item)
            ):
                unfinished.lines.append(item)
                current = unfinished
                continue
            current = _Block("bullet" if self._is_bullet(item) else "para", [item])
            blocks.append(current)
            if current.kind == "para" and abs(item.size - self.body) <= 0.4 and not self._styled(item):
                unfinished = current
            elif not (item.size < self.body - 0.4 and not self._styled(item)):
                unfinished = None
        return blocks

    def _heading_level(self, block: _Block) -> int:
        """0 for body text, else the Markdown heading level (1 only for the title)."""
        if block.kind != "para":
            return 0
        lines = block.lines
        text = " ".join(line.text for line in lines).strip()
        words = text.split()
        if not words or text[-1] in ".,;:]" or ". " in text or text[0].islower() or not re.search(r"[^\W\d_]{2}", text):
            return 0
        first = lines[0]
        large = first.size >= 1.12 * self.body and first.size - self.body >= 1.0
        if all(self._styled(line) for line in lines) and len(words) <= (20 if large else 15) and len(lines) <= 3:
            return 1 if large and first.page == 1 and first.size >= self._title_size else 2
        if len(lines) == 1 and _NUMBERED_HEADING.match(text) and len(words) <= 8 and text[-1] not in _ENDS_SENTENCE:
            return 2
        return 0

    # ---- output

    def write(self) -> tuple[str, dict[int, int]]:
        """Canonical text, and the offset where each page's first text begins."""
        blocks = self._blocks()
        sizes = [b.lines[0].size for b in blocks if b.kind == "para" and b.lines[0].page == 1]
        self._title_size = max(sizes, default=math.inf)
        out: list[str] = []
        length = 0
        starts: dict[int, int] = {}
        previous_kind = ""
        for block in blocks:
            piece, marks = self._render(block)
            if not piece:
                continue
            sep = "" if not out else ("\n" if block.kind == previous_kind == "bullet" else "\n\n")
            length += len(sep)
            for page, offset in marks:
                starts.setdefault(page, length + offset)
            out.append(sep + piece)
            length += len(piece)
            previous_kind = block.kind
        return "".join(out), starts

    def _render(self, block: _Block) -> tuple[str, list[tuple[int, int]]]:
        if block.table is not None:
            return render_table(block.table), [(block.table.page, 0)]
        level = self._heading_level(block)
        if level == 1 and self._title_done:
            level = 2
        self._title_done = self._title_done or level == 1
        prefix = {0: "- " if block.kind == "bullet" else "", 1: "# ", 2: "## "}[level]
        text = prefix
        marks: list[tuple[int, int]] = []
        notes: list[str] = []
        for index, line in enumerate(block.lines):
            words = line.text
            if index == 0 and block.kind == "bullet":
                glyph = line.words[0].text
                words = words[len(glyph) if glyph in _BULLET_GLYPHS else 1 :]
            words = " ".join(fix_text(words.replace("\u2022", ""), self.stats).split())
            if not words:
                continue
            joined = join_pair(text, words, self.stats) if text != prefix else text + words
            marks.append((line.page, len(joined) - len(words)))
            text = joined
            notes.extend(line.notes)
        if text == prefix:
            return "", []
        if notes and level == 0:
            self.stats.counts["margin"] += len(notes)
            text = text + " " + " ".join(notes)
        return text, marks
