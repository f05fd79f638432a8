"""The guideline parser: raw text -> title -> sections -> statements, with offsets.

A statement is one sentence of a paragraph, one sentence of a bullet item, or
one row of a table. Every statement keeps ``start``/``end`` character offsets
into the raw file text (read as UTF-8), so ``raw[start:end] == statement.text``
always holds and a clinician can be shown exactly where a quote comes from.

Citations are separated from the text they follow. Two styles are understood:

* plain reference numbers after a sentence or at the end of a bullet
  ("... over 6-12 months. 4, 5", "... corticosteroid effect 2, 6");
* bracket citations anywhere ("... [1]", "[1, 2]", "[1–3]"; a range expands).

A plain number is only a citation when the document shows it writes citations
that way (a numbered reference list, or the same style used repeatedly; see
:mod:`assistant.ingest.references`): otherwise "People older than 75" would
lose its age. Numbers that belong to the text ("× 4 doses", "day 2", "over 40")
are never citations. Evidence grades and author-year citations ("[IIB]",
"(Grade 1B)", "(Smith 2019)") stay in the text. A reference list is not
guideline text: its entries land in :attr:`Document.references`, not in statements.
Tables (Markdown pipe tables and plain ``a | b | c`` rows) give one statement per
data row, led in by the header row (see :mod:`assistant.ingest.tables`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.ingest.lines import BRACKET, CITE_LIST, split_lines
from assistant.ingest.references import (
    QUANTITY_WORDS,
    UNIT_WORDS,
    CiteStyle,
    expand_labels,
    find_reference_list,
    labels_in,
    trailing_brackets,
    trailing_plain,
)
from assistant.ingest.tables import (
    BULLET,
    Block,
    blocks,
    find_tables,
    heading_shaped,
    heading_text,
    looks_like_heading,
)

__all__ = [
    "Document",
    "Section",
    "Statement",
    "expand_labels",
    "looks_like_heading",
    "parse_document",
    "split_sentences",
]

# Sentence end: terminal punctuation (plus closing quotes/brackets), then optional
# citations, then either the end of the block or whitespace before a sentence start.
_SENTENCE_END = re.compile(
    rf"""(?P<term>[.!?]["”’')\]]*)
         (?P<cites>(?:\s*\[{CITE_LIST}\])+|\s+{CITE_LIST}(?=\s*$|\s+["“(\[]?[A-Z]))?
         (?=\s*$|\s+["“(\[]?[A-Z0-9])""",
    re.VERBOSE,
)
_QUANTITY_WORDS, _UNIT_WORDS = QUANTITY_WORDS, UNIT_WORDS  # kept importable for the property tests
# Abbreviations whose full stop does not end a sentence (compared lower-case, inner dots kept).
_ABBREVIATIONS = frozenset(
    "e.g i.e vs etc approx cf dr fig figs al ca st mr mrs ms prof u.s u.k i.v i.m s.c p.o b.i.d t.i.d q.i.d "
    "q.d o.d a.m p.m n.b incl no".split()
)
# Lower-case words that come before a person's initial ("by J. Smith"); after other lower-case
# words a capital letter is a designation that can end a sentence ("vitamin D.", "hepatitis B.").
_BEFORE_INITIALS = frozenset("by and with from of to for per et dr prof".split())
BOM = "\ufeff"
_ABBREVIATION_LOOKBACK = 12  # longer than any abbreviation above: the check is O(1) per full stop


@dataclass(frozen=True)
class Statement:
    """One quotable sentence, bullet item or table row.

    ``kind`` is "sentence", "bullet" or "table_row"; a table row's ``lead_in`` is
    its table's header row, a bullet's the sentence that introduced the list.
    """

    text: str
    start: int
    end: int
    citations: tuple[str, ...]
    section: str | None
    is_bullet: bool = False
    lead_in: str | None = None
    kind: str = "sentence"


@dataclass
class Section:
    title: str | None
    start: int
    end: int
    statements: list[Statement] = field(default_factory=list)


@dataclass
class Document:
    """A parsed guideline file; ``source`` is its path relative to the corpus folder.

    ``references`` maps a citation label ("4") to its reference-list entry;
    ``reference_span`` is where that list sits in ``raw`` (never quoted).
    """

    source: str
    title: str
    raw: str
    sections: list[Section]
    sha256: str = ""
    references: dict[str, str] = field(default_factory=dict)
    reference_span: tuple[int, int] | None = None

    @property
    def statements(self) -> list[Statement]:
        return [statement for section in self.sections for statement in section.statements]

    def section_text(self, title: str | None) -> str:
        """The raw text of a section (for showing a quote in context)."""
        for section in self.sections:
            if section.title == title:
                return self.raw[section.start : section.end]
        return ""


# --------------------------------------------------------------------------- sentences


def _is_abbreviation(block: str, dot: int) -> bool:
    """Whether the full stop at ``dot`` closes an abbreviation or an initial, not a sentence.

    Looks back a bounded number of characters, so a long paragraph costs O(1) per
    full stop (re-scanning from the block start made a 104 KB paragraph take minutes).
    """
    begin = max(0, dot - _ABBREVIATION_LOOKBACK)
    token_start = dot
    while token_start > begin and (block[token_start - 1].isalpha() or block[token_start - 1] == "."):
        token_start -= 1
    if token_start == begin and begin > 0 and (block[begin - 1].isalpha() or block[begin - 1] == "."):
        return False  # a word longer than any abbreviation
    token = block[token_start:dot].lstrip(".")
    if token.lower() in _ABBREVIATIONS:
        return token != "no" or block[dot + 1 : dot + 3].strip()[:1].isdigit()  # "No. 5", not "... is no. The"
    if len(token) == 1 and token.isupper():  # "J. Smith", "by K. Jones", "Box A. Planned"; not "vitamin D. Give"
        previous = re.search(r"([^\W\d_]+)\W*$", block[max(0, token_start - 30) : token_start])
        return previous is None or not previous.group(1).islower() or previous.group(1) in _BEFORE_INITIALS
    return False


def split_sentences(block: str, style: CiteStyle | None = None) -> Iterator[tuple[int, int, list[str]]]:
    """Yield ``(start, end, labels)`` for each sentence of ``block`` (offsets within block).

    The span excludes the citation list that follows the sentence; bracket
    citations inside a sentence stay in its text and are also reported. Without a
    ``style`` the block is its own document: plain labels count when it uses them repeatedly.
    """
    if style is None:
        survey = CiteStyle(surveying=True)
        for _ in _split(block, survey, countable=True):
            pass
        style = survey.settled()
    yield from _split(block, style, countable=False)


def _split(block: str, style: CiteStyle, countable: bool) -> Iterator[tuple[int, int, list[str]]]:
    position = 0
    for match in _SENTENCE_END.finditer(block):
        if match.start() < position or _is_abbreviation(block, match.start()):
            continue
        cites, after = match.group("cites") or "", match.end()
        if cites and "[" not in cites and not style.accepts_after_stop(expand_labels(cites)):
            cites, after = "", match.end("term")  # the number starts the next sentence ("... 2019. 75 patients")
        yield from _sentence(block, position, match.end("term"), cites)
        position = after
    if block[position:].strip():
        yield from _tail(block, position, style, countable)


def _sentence(block: str, begin: int, end: int, cites: str) -> Iterator[tuple[int, int, list[str]]]:
    start = begin + (len(block[begin:end]) - len(block[begin:end].lstrip()))
    if start >= end:
        return
    body = block[start:end]
    labels = labels_in(body) if BRACKET.search(body) else []
    labels += [label for label in labels_in(cites) if cites and label not in labels]
    # "text [1]." - brackets right before the full stop belong to the citations, keep text verbatim.
    yield start, end, labels


def _tail(block: str, begin: int, style: CiteStyle, countable: bool) -> Iterator[tuple[int, int, list[str]]]:
    """The last sentence of a block when it has no terminal punctuation (typical of bullets)."""
    segment = block[begin:].rstrip()
    start = begin + (len(segment) - len(segment.lstrip()))
    end = begin + len(segment)
    labels: list[str] = []
    cut = trailing_brackets(block, start, end)
    if cut < end:
        labels, end = labels_in(block[cut:end]), cut
    elif plain := trailing_plain(block, start, end):
        where, spec = plain
        if style.accepts_bare(expand_labels(spec), block[start:where], countable):
            labels, end = expand_labels(spec), where
    while end > start and block[end - 1].isspace():
        end -= 1
    if end <= start:
        return
    body = block[start:end]
    labels = [label for label in (labels_in(body) if BRACKET.search(body) else []) if label not in labels] + labels
    yield start, end, labels


# --------------------------------------------------------------------------- documents


def _marker_end(text: str) -> int:
    """Where a bullet's text starts, after its marker (0 when the line has none)."""
    match = BULLET.match(text)
    return match.end() if match else 0


def parse_document(raw: str, source: str, explicit_headings: bool = False) -> Document:
    """Parse one guideline's raw text into a :class:`Document`.

    ``explicit_headings`` is for canonical text (PDF, HTML): only ``#`` lines are headings.
    """
    if raw.startswith(BOM):
        # A byte-order mark is not text: read as a line break (same length, so offsets still index
        # ``raw``); otherwise "\ufeff# Title" is no heading and the title merges into the first quote.
        document = parse_document("\n" + raw[len(BOM) :], source, explicit_headings)
        document.raw = raw
        return document
    lines = split_lines(raw)
    tables = find_tables(lines)
    references = find_reference_list(lines, len(raw), set(tables))
    span = references.span
    kept = [
        block
        for block in blocks(
            lines, tables, plain_title=not source.lower().endswith((".md", ".markdown")), explicit_headings=explicit_headings
        )
        if span is None or not span[0] <= block.start < span[1]
    ]
    style = _survey(raw, kept, references.entries)
    title: str | None = None
    sections: list[Section] = []
    section = Section(title=None, start=0, end=len(raw))
    lead_in: str | None = None
    last_text_statement: str | None = None

    def open_section(name: str | None, start: int) -> Section:
        section.end = start
        if section.statements or section.title is not None:
            sections.append(section)
        return Section(title=name, start=start, end=len(raw))

    for block in _with_reference_heading(kept, span if references.heading else None):
        if block.kind == "references":
            section = open_section(references.heading, block.start)
            continue
        if block.kind in ("heading", "md-heading"):
            name = heading_text(raw[block.start : block.end], block.kind)
            if title is None and not sections and not section.statements:
                title = name
                continue
            section = open_section(name, block.start)
            lead_in = last_text_statement = None
            continue
        if block.kind == "table_row":
            lead_in = last_text_statement = None
            text = raw[block.start : block.end]
            if any(char.isalpha() for char in text):
                cited = tuple(labels_in(text)) if BRACKET.search(text) else ()
                section.statements.append(
                    Statement(text, block.start, block.end, cited, section.title, lead_in=block.lead, kind="table_row")
                )
            continue
        is_bullet = block.kind == "bullet"
        body_start = block.start + (_marker_end(raw[block.start : block.end]) if is_bullet else 0)
        body = raw[body_start : block.end]
        if not is_bullet:
            lead_in = None
        for s_start, s_end, labels in _split(body, style, countable=False):
            text = body[s_start:s_end]
            if not _has_words(text):
                continue
            section.statements.append(
                Statement(
                    text=text,
                    start=body_start + s_start,
                    end=body_start + s_end,
                    citations=tuple(labels),
                    section=section.title,
                    is_bullet=is_bullet,
                    lead_in=lead_in if is_bullet else None,
                    kind="bullet" if is_bullet else "sentence",
                )
            )
            if not is_bullet:
                last_text_statement = text
        if not is_bullet:
            lead_in = last_text_statement
    section.end = len(raw)
    if section.statements or section.title is not None:
        sections.append(section)
    return Document(
        source=source,
        title=title or _title_from_path(source),
        raw=raw,
        sections=sections,
        references=dict(references.entries),
        reference_span=span,
    )


def _survey(raw: str, body_blocks: Sequence[Block], entries: dict[str, str]) -> CiteStyle:
    """First pass: how this document writes citations (see :class:`CiteStyle`)."""
    survey = CiteStyle(references=dict(entries), surveying=True)
    for block in body_blocks:
        if block.kind in ("bullet", "text"):
            offset = _marker_end(raw[block.start : block.end]) if block.kind == "bullet" else 0
            body = raw[block.start + offset : block.end]
            for _ in _split(body, survey, countable=block.kind == "bullet" or not heading_shaped(body)):
                pass
    return survey.settled()


def _with_reference_heading(kept: list[Block], span: tuple[int, int] | None) -> Iterator[Block]:
    """The blocks, with a marker where a headed reference list starts (it opens a section; its entries stay out)."""
    for block in kept:
        if span is not None and block.start >= span[0]:
            yield Block("references", span[0], span[0])
            span = None
        yield block
    if span is not None:
        yield Block("references", span[0], span[0])


def _has_words(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]{2,}", text))


def _title_from_path(source: str) -> str:
    return Path(source).stem.replace("-", " ").replace("_", " ").strip() or source
