"""Tables in PDF extraction: found on a page, cleaned cell by cell, written as pipe rows."""

from __future__ import annotations

import itertools
import statistics
from typing import Any

from assistant.ingest.pdf_layout import Line, Table, Word, cluster_lines, coverage_runs
from assistant.ingest.pdf_text import Stats, fix_text, join_lines, repair_word

_CELL_OPTIONS: dict[str, Any] = {"x_tolerance_ratio": 0.15, "y_tolerance": 3, "expand_ligatures": False}


# --------------------------------------------------------------------------- tables


def read_table(found: Any, words: list[Word], stats: Stats) -> Table | None:
    """A ruled table, or a table with horizontal rules only (columns found from whitespace)."""
    x0, top, x1, bottom = (float(v) for v in found.bbox)
    raw_rows = found.extract(**_CELL_OPTIONS)
    if max((len(row) for row in raw_rows), default=0) < 2:
        rows = _whitespace_table(found, words, stats)
    else:
        rows = [[_clean_cell(cell, stats) for cell in row] for row in raw_rows]
    rows = [row for row in (rows or []) if any(row)]
    if len(rows) < 2 or sum(1 for row in rows if sum(1 for cell in row if cell) >= 2) < 1:
        return None
    if sum(1 for row in rows for cell in row if cell) < 3:
        return None
    return Table(rows=rows, x0=x0, x1=x1, top=top, bottom=bottom)


def _whitespace_table(found: Any, words: list[Word], stats: Stats) -> list[list[str]] | None:
    """Columns from vertical strips no word crosses; rows from rules and from blank space between lines."""
    x0, top, x1, bottom = (float(v) for v in found.bbox)
    inside = [w for w in words if x0 <= (w.x0 + w.x1) / 2 <= x1 and top <= w.middle <= bottom]
    if len(inside) < 4:
        return None
    size = statistics.median(w.size for w in inside)
    least, runs = coverage_runs(inside, x0, x1, pad=0.0)
    cuts = [(a + b) / 2 for a, b in runs if least == 0 and b - a >= max(6.0, 0.8 * size) and a > x0 + 1 and b < x1 - 1]
    if not cuts:
        return None
    rules = sorted(float(row.bbox[1]) for row in found.rows)
    groups: list[list[Line]] = []
    for line in cluster_lines(inside):
        previous = groups[-1][-1] if groups else None
        if (
            previous is None
            or line.top - previous.bottom > 0.5 * size
            or any(previous.bottom <= rule <= line.top for rule in rules)
        ):
            groups.append([line])
        else:
            groups[-1].append(line)
    edges = [x0, *cuts, x1]
    rows = []
    for group in groups:
        cells = []
        for left, right in itertools.pairwise(edges):
            cell_words = [w for line in group for w in line.words if left <= (w.x0 + w.x1) / 2 < right]
            cell_lines = [line.text for line in cluster_lines(cell_words)]
            cells.append(_escape_cell(fix_text(join_lines(cell_lines, stats), stats)))
        rows.append(cells)
    return rows


def _clean_cell(cell: str | None, stats: Stats) -> str:
    """Whitespace collapsed, line-end hyphens handled like body text, ``|`` escaped; nothing else changes."""
    if not cell:
        return ""
    words = [repair_word(word, stats) for word in cell.split(" ")]
    lines = [" ".join(w for w in line.split() if w) for line in " ".join(words).split("\n")]
    lines = [line.replace("\u2022", "").strip() if line.strip() == "\u2022" else line for line in lines]
    return _escape_cell(fix_text(join_lines([line for line in lines if line], stats), stats))


def _escape_cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_table(table: Table) -> str:
    width = max(len(row) for row in table.rows)
    rows = [row + [""] * (width - len(row)) for row in table.rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "| " + " | ".join(["---"] * width) + " |"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows[1:])
    return "\n".join(lines)
