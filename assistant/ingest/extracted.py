"""The value every file reader returns: a canonical text and where its pages are.

Readers for formats that are not plain text (PDF, HTML) turn a file into one
*canonical text* in the Markdown subset the guideline parser understands
(``#`` headings, ``-`` bullets, ``| a | b |`` table rows, blank lines between
paragraphs). The index stores that text beside the chunks, so a quote's offsets
can be checked against it exactly as they are checked against a ``.txt`` file.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PageSpan:
    """Characters ``[start, end)`` of the canonical text came from one page.

    ``number`` is the 1-based page index in the file; ``label`` the printed page
    label where the PDF defines one (``"iv"``, ``"12"``), else ``None``.
    """

    number: int
    start: int
    end: int
    label: str | None = None


@dataclass
class ExtractedText:
    """A file's canonical text, its page spans (empty for unpaged formats), and what was repaired."""

    text: str
    pages: list[PageSpan] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    def page_at(self, offset: int) -> PageSpan | None:
        """The page a character offset falls on (``None`` for unpaged text)."""
        return page_at(self.pages, offset)


def page_at(pages: list[PageSpan], offset: int) -> PageSpan | None:
    """The span holding ``offset`` in ordered, non-overlapping page spans (binary search; the last page
    for an offset past the end, ``None`` before the first page or with no pages)."""
    index = bisect.bisect_right([span.start for span in pages], offset) - 1
    if index < 0:
        return None
    span = pages[index]
    return span if offset < span.end or index == len(pages) - 1 else None
