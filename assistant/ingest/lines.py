"""The raw text's lines and citation-label brackets: what layout (tables) and citations (references) share."""

from __future__ import annotations

import re
from typing import NamedTuple

CITE_NUM = r"\d{1,3}(?:[ \t]*[–-][ \t]*\d{1,3})?"
CITE_LIST = rf"{CITE_NUM}(?:[ \t]*,[ \t]*{CITE_NUM})*"
BRACKET = re.compile(rf"\[(?P<labels>{CITE_LIST})\]")


class Line(NamedTuple):
    """One line of the raw text: its offsets (line break excluded) and its text."""

    start: int
    end: int
    text: str


def split_lines(raw: str) -> list[Line]:
    """The lines of ``raw`` with offsets that index it exactly (any line break style)."""
    lines, offset = [], 0
    for piece in raw.splitlines(keepends=True):
        body = piece.rstrip("\r\n")
        lines.append(Line(offset, offset + len(body), body))
        offset += len(piece)
    return lines
