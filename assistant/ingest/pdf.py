"""Read a guideline PDF into the canonical text the guideline parser understands.

PDFs do not store paragraphs, only glyphs at positions, so this module rebuilds
the reading order a clinician would follow: running headers, footers and page
numbers are dropped (they would otherwise split sentences and pollute quotes),
two-column pages are read left column first, words broken by a line-end hyphen
are re-joined, headings and tables are recognised, and paragraphs that continue
across a column or page break are joined again. The output uses the Markdown
subset of :mod:`assistant.ingest.extracted`, with page spans so that every quote
can be traced back to the printed page.

This module opens and checks the file, reads each page's words and tables, and
assembles the result. The stages live beside it, in the order the data flows:

- :mod:`assistant.ingest.pdf_text`: character repairs (ligatures, unmapped
  glyphs, mojibake), joining lines and words broken by a line-end hyphen;
- :mod:`assistant.ingest.pdf_tables`: tables found on a page, as pipe rows;
- :mod:`assistant.ingest.pdf_layout`: words into lines, running headers and
  footers, columns and reading order, margin notes;
- :mod:`assistant.ingest.pdf_writer`: lines into paragraphs, bullets and
  headings, written out as canonical text.

pdfplumber (on pdfminer.six) does the low-level work; PyMuPDF is deliberately
not used (AGPL) and there is no OCR: a scanned PDF is refused with a clear error.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError

from assistant.errors import CorpusError
from assistant.ingest.extracted import ExtractedText, PageSpan
from assistant.ingest.pdf_layout import Page, Table, Word, drop_running_lines, reading_order
from assistant.ingest.pdf_tables import read_table
from assistant.ingest.pdf_text import Stats, repair_notes, repair_word
from assistant.ingest.pdf_text import should_dehyphenate as _should_dehyphenate  # noqa: F401  (tests pin the rule here)
from assistant.ingest.pdf_writer import Writer, body_size

MAX_PAGES = 1000
"""Longer files are refused: no guideline is that long, and extraction time grows linearly."""

_WORD_OPTIONS: dict[str, Any] = {
    # A gap wider than 15% of the font size separates words. pdfplumber's default
    # (3 pt) glues words together in tightly set journal PDFs.
    "x_tolerance_ratio": 0.15,
    "y_tolerance": 3,
    "keep_blank_chars": False,
    "use_text_flow": False,
    "expand_ligatures": False,  # normalised by repair_word, which also counts them
    "return_chars": True,
}
_BOLD_FONT = re.compile(r"bold|black|heavy|demi|[-.,_](?:b|bd|bi)$", re.IGNORECASE)


# --------------------------------------------------------------------------- public API


def extract_pdf(path: Path) -> ExtractedText:
    """Read one PDF into canonical text with page spans; raise :class:`CorpusError` for unusable files."""
    path = Path(path)
    _check_header(path)
    try:
        return _extract(path)
    except CorpusError:
        raise
    except Exception as exc:  # pdfminer and pypdfium2 raise many types; none may escape
        raise _as_corpus_error(path, exc) from exc


# --------------------------------------------------------------------------- errors


def _check_header(path: Path) -> None:
    """Refuse what is plainly not a PDF before pdfminer spends time guessing."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
    except OSError as exc:
        raise CorpusError(f"{path.name}: cannot be read ({exc.strerror or exc}).") from exc
    if b"%PDF-" not in head:
        raise CorpusError(f"{path.name}: is not a PDF file (no %PDF header); it may be damaged.")


def _as_corpus_error(path: Path, exc: Exception) -> CorpusError:
    """One readable line for any library failure; password protection is named as such."""
    chain = _exception_chain(exc)
    if any(isinstance(e, PDFEncryptionError) or "password" in str(e).lower() for e in chain):
        return CorpusError(f"{path.name}: is encrypted (password-protected); save an unprotected copy and add that.")
    root = chain[-1]
    detail = " ".join(str(root).split())[:120] or "no detail"
    return CorpusError(f"{path.name}: cannot be read as a PDF; it may be damaged ({type(root).__name__}: {detail}).")


def _exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (pdfplumber wraps pdfminer's in ``args[0]``), and its causes."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain and len(chain) < 10:
        chain.append(current)
        inner = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = inner or current.__cause__ or current.__context__
    return chain


# --------------------------------------------------------------------------- extraction


def _extract(path: Path) -> ExtractedText:
    stats = Stats()
    with pdfplumber.open(path) as pdf:
        total = len(pdf.pages)
        if total == 0:
            raise CorpusError(f"{path.name}: the PDF has no pages.")
        if total > MAX_PAGES:
            raise CorpusError(f"{path.name}: {total:,} pages is more than the {MAX_PAGES:,}-page limit.")
        labels = _page_labels(pdf, total)
        pages = []
        for page in pdf.pages:
            pages.append(_read_page(page, stats))
            page.close()  # frees pdfplumber's per-page caches; a 500-page file stays small in memory
    if not any(p.words or p.tables for p in pages):
        raise CorpusError(f"{path.name}: has no text layer (scanned?); OCR is not supported, use a text PDF.")
    blank = [p.number for p in pages if not p.words and not p.tables]
    drop_running_lines(pages, stats)
    items = [item for page in pages for item in reading_order(page)]
    text, starts = Writer(items, body_size(pages), stats).write()
    spans = _page_spans([p.number for p in pages], starts, len(text), labels)
    return ExtractedText(text=text, pages=spans, repairs=repair_notes(stats, blank))


def _page_labels(pdf: Any, total: int) -> list[str | None]:
    """Printed page labels ("iv", "12") when the PDF defines them; ``None`` each otherwise."""
    try:
        labels = [str(label) or None for label in itertools.islice(pdf.doc.get_page_labels(), total)]
    except Exception:  # no /PageLabels, or a malformed tree: labels are optional
        return [None] * total
    return labels + [None] * (total - len(labels))


def _is_readable(obj: dict[str, Any]) -> bool:
    """Rotated and mirrored glyphs (margin watermarks, "Downloaded from ..." strips) are not reading text."""
    if obj.get("object_type") != "char":
        return True
    return bool(obj.get("upright", True)) and obj.get("matrix", (1,))[0] > 0


def _read_page(page: Any, stats: Stats) -> Page:
    number = int(page.page_number)
    stats.counts["rotated"] += sum(1 for c in page.chars if not _is_readable(c))
    view = page.filter(_is_readable)
    words = [w for w in (_to_word(raw, stats) for raw in view.extract_words(**_WORD_OPTIONS)) if w is not None]
    width, height = float(page.width), float(page.height)
    words = [w for w in words if 0 <= (w.x0 + w.x1) / 2 <= width and 0 <= w.middle <= height]
    tables = [t for t in (read_table(found, words, stats) for found in view.find_tables()) if t is not None]
    for table in tables:
        table.page = number
    words = [w for w in words if not any(_inside(w, t) for t in tables)]
    return Page(number=number, width=width, height=height, words=words, tables=tables)


def _to_word(raw: dict[str, Any], stats: Stats) -> Word | None:
    chars = raw.get("chars") or []
    sizes: Counter[float] = Counter(round(float(c["size"]) * 2) / 2 for c in chars)
    size = sizes.most_common(1)[0][0] if sizes else float(raw["bottom"]) - float(raw["top"])
    bold = sum(1 for c in chars if _BOLD_FONT.search(str(c.get("fontname", "")).split("+")[-1]))
    text = repair_word(str(raw["text"]), stats)
    if not text:
        return None
    return Word(
        text=text,
        x0=float(raw["x0"]),
        x1=float(raw["x1"]),
        top=float(raw["top"]),
        bottom=float(raw["bottom"]),
        size=size,
        bold=bool(chars) and bold >= 0.8 * len(chars),
    )


def _inside(word: Word, table: Table) -> bool:
    x = (word.x0 + word.x1) / 2
    return table.x0 <= x <= table.x1 and table.top <= word.middle <= table.bottom


def _page_spans(numbers: list[int], starts: dict[int, int], length: int, labels: list[str | None]) -> list[PageSpan]:
    """Contiguous, ordered spans: a page runs from where its text starts to where the next page's starts."""
    bounds: list[int] = []
    following = length
    for number in reversed(numbers):
        following = min(following, starts.get(number, following))
        bounds.append(following)
    bounds.reverse()
    if bounds:
        bounds[0] = 0
    spans = []
    for index, number in enumerate(numbers):
        end = bounds[index + 1] if index + 1 < len(bounds) else length
        spans.append(PageSpan(number=number, start=bounds[index], end=end, label=labels[number - 1]))
    return spans
