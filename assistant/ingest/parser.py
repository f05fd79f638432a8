"""The guideline parser: raw text -> title -> sections -> statements, with offsets.

A statement is one sentence of a paragraph or one sentence of a bullet item.
Every statement keeps ``start``/``end`` character offsets into the raw file text
(read as UTF-8), so ``raw[start:end] == statement.text`` always holds and a
clinician can be shown exactly where a quote comes from.

Citations are separated from the text they follow. Two styles are understood:

* plain reference numbers after a sentence or at the end of a bullet
  ("... over 6-12 months. 4, 5", "... corticosteroid effect 2, 6");
* bracket citations anywhere ("... [1]", "[1, 2]", "[1–3]"; a range expands).

Numbers that belong to the text ("× 4 doses", "day 2") are not citations: a
plain number list only counts when it follows terminal punctuation or closes a
bullet/paragraph, and never when the word before it makes it a quantity.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import CorpusError, UnsupportedFileType

SUPPORTED_SUFFIXES = (".txt", ".md")
MAX_FILE_BYTES = 5_000_000
HEADING_MAX_CHARS = 90
HEADING_MAX_WORDS = 12

_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?:[-*•‣◦▪]|\d{1,2}[.)])[ \t]+")
_MD_HEADING = re.compile(r"^[ \t]{0,3}(?P<hashes>#{1,6})[ \t]+(?P<title>.*?)[ \t#]*$")
_CITE_NUM = r"\d{1,3}(?:[ \t]*[–-][ \t]*\d{1,3})?"
_CITE_LIST = rf"{_CITE_NUM}(?:[ \t]*,[ \t]*{_CITE_NUM})*"
_BRACKET = re.compile(rf"\[(?P<labels>{_CITE_LIST})\]")
# Sentence end: terminal punctuation (plus closing quotes/brackets), then optional
# citations, then either the end of the block or whitespace before a sentence start.
_SENTENCE_END = re.compile(
    rf"""(?P<term>[.!?]["”’')\]]*)
         (?P<cites>(?:\s*\[{_CITE_LIST}\])+|\s+{_CITE_LIST}(?=\s*$|\s+["“(\[]?[A-Z]))?
         (?=\s*$|\s+["“(\[]?[A-Z0-9])""",
    re.VERBOSE,
)
# Citations may sit on a wrapped continuation line ("... monitored\n  4, 5"), hence \s, not [ \t].
_TRAILING_CITES = re.compile(rf"(?:\s*\[{_CITE_LIST}\])+\s*$|(?<=[^\s\d×*/.,:;(–-])\s+(?P<plain>{_CITE_LIST})\s*$")
# Words after which a bare number is a quantity, never a citation.
_QUANTITY_WORDS = frozenset(
    "day days week weeks month months year years dose doses cycle cycles grade stage type phase "
    "x × times hour hours h min minutes step steps line lines level levels class group part "
    "section table figure fig appendix page version number no cd il vitamin factor".split()
)
_UNIT_WORDS = frozenset("mg g kg mcg ug µg μg ml l mmol mol iu units unit m2 h hr min".split())
_ABBREVIATIONS = frozenset("e.g i.e vs etc approx cf dr fig al ca no st mr mrs ms prof".split())


@dataclass(frozen=True)
class Statement:
    """One quotable sentence or bullet item."""

    text: str
    start: int
    end: int
    citations: tuple[str, ...]
    section: str | None
    is_bullet: bool = False
    lead_in: str | None = None


@dataclass
class Section:
    title: str | None
    start: int
    end: int
    statements: list[Statement] = field(default_factory=list)


@dataclass
class Document:
    """A parsed guideline file; ``source`` is its path relative to the corpus folder."""

    source: str
    title: str
    raw: str
    sections: list[Section]
    sha256: str = ""

    @property
    def statements(self) -> list[Statement]:
        return [statement for section in self.sections for statement in section.statements]

    def section_text(self, title: str | None) -> str:
        """The raw text of a section (for showing a quote in context)."""
        for section in self.sections:
            if section.title == title:
                return self.raw[section.start : section.end]
        return ""


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str


# --------------------------------------------------------------------------- citations


def expand_labels(spec: str) -> list[str]:
    """``"1, 3–5"`` -> ``["1", "3", "4", "5"]``; order kept, duplicates dropped."""
    labels: list[str] = []
    for part in re.split(r"\s*,\s*", spec.strip()):
        bounds = re.split(r"\s*[–-]\s*", part)
        if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
            low, high = int(bounds[0]), int(bounds[1])
            members = [str(n) for n in range(low, high + 1)] if 0 < high - low <= 50 else [bounds[0], bounds[1]]
        else:
            members = [part] if part else []
        labels.extend(member for member in members if member not in labels)
    return labels


def _labels_in(fragment: str) -> list[str]:
    """All citation labels in a citation fragment (bracketed or plain)."""
    brackets = _BRACKET.findall(fragment)
    specs = brackets if brackets else [fragment]
    labels: list[str] = []
    for spec in specs:
        labels.extend(label for label in expand_labels(spec) if label not in labels)
    return labels


def _plain_cites_allowed(text_before: str) -> bool:
    """A bare trailing number list is a citation unless the word right before makes it a quantity.

    "... later lines) 2, 4" is cited; "... on day 2" and "... × 4" are not.
    """
    stripped = text_before.rstrip()
    if not stripped:
        return False
    if not stripped[-1].isalpha():
        return stripped[-1] not in "×*/+=<>~"
    word = re.search(r"[A-Za-z×]+$", stripped)
    return not (word and word.group(0).lower() in _QUANTITY_WORDS | _UNIT_WORDS)


# --------------------------------------------------------------------------- sentences


def _is_abbreviation(block: str, dot: int) -> bool:
    match = re.search(r"([A-Za-z][A-Za-z.]*)$", block[:dot])
    return match is not None and match.group(1).lower().rstrip(".") in _ABBREVIATIONS


def split_sentences(block: str) -> Iterator[tuple[int, int, list[str]]]:
    """Yield ``(start, end, labels)`` for each sentence of ``block`` (offsets within block).

    The span excludes the citation list that follows the sentence; bracket
    citations inside a sentence stay in its text and are also reported.
    """
    position = 0
    for match in _SENTENCE_END.finditer(block):
        if match.start() < position or _is_abbreviation(block, match.start()):
            continue
        cites = match.group("cites") or ""
        yield from _sentence(block, position, match.end("term"), match.start("term"), cites)
        position = match.end()
    if block[position:].strip():
        yield from _tail(block, position)


def _sentence(block: str, begin: int, end: int, term_at: int, cites: str) -> Iterator[tuple[int, int, list[str]]]:
    start = begin + (len(block[begin:end]) - len(block[begin:end].lstrip()))
    if start >= end:
        return
    body = block[start:end]
    labels = _labels_in(body) if _BRACKET.search(body) else []
    labels += [label for label in _labels_in(cites) if cites and label not in labels]
    # "text [1]." - brackets right before the full stop belong to the citations, keep text verbatim.
    yield start, end, labels


def _tail(block: str, begin: int) -> Iterator[tuple[int, int, list[str]]]:
    """The last sentence of a block when it has no terminal punctuation (typical of bullets)."""
    segment = block[begin:].rstrip()
    start = begin + (len(segment) - len(segment.lstrip()))
    end = begin + len(segment)
    labels: list[str] = []
    trailing = _TRAILING_CITES.search(block, start, end)
    if trailing and (trailing.group("plain") is None or _plain_cites_allowed(block[start : trailing.start()])):
        fragment = trailing.group(0)
        labels = _labels_in(fragment)
        end = trailing.start()
        while end > start and block[end - 1].isspace():
            end -= 1
    if end <= start:
        return
    body = block[start:end]
    labels = [label for label in (_labels_in(body) if _BRACKET.search(body) else []) if label not in labels] + labels
    yield start, end, labels


# --------------------------------------------------------------------------- lines and blocks


def _lines(raw: str) -> list[_Line]:
    lines, offset = [], 0
    for piece in raw.splitlines(keepends=True):
        body = piece.rstrip("\r\n")
        lines.append(_Line(offset, offset + len(body), body))
        offset += len(piece)
    return lines


def looks_like_heading(text: str) -> bool:
    """A short line with no terminal punctuation and no citations."""
    stripped = text.strip()
    if not stripped or len(stripped) > HEADING_MAX_CHARS or len(stripped.split()) > HEADING_MAX_WORDS:
        return False
    if _BULLET.match(text) or stripped[-1] in ".!?:;,)\"”" or _BRACKET.search(stripped):
        return False
    if re.search(rf"\s{_CITE_LIST}$", stripped):  # ends in a citation list ("... 4, 5", "... 1–3")
        return False
    return stripped[0].isupper() or stripped[0].isdigit()


def _ends_sentence(text: str) -> bool:
    stripped = text.rstrip()
    return bool(stripped) and (
        stripped[-1] in ".!?:;\"”)]" or bool(re.search(rf"[.!?][\"”’')\]]*\s+{_CITE_LIST}$", stripped))
    )


def _blocks(raw: str) -> Iterator[tuple[str, int, int]]:
    """Group lines into ``("heading"|"md-heading"|"bullet"|"text", start, end)`` blocks.

    Wrapped lines are joined: an indented line after a bullet continues it, and a
    text line continues the previous text line when that one ended mid-sentence.
    """
    current: list = []  # [kind, start, end, last_line_text]
    lines = _lines(raw)
    for number, line in enumerate(lines):
        text = line.text
        following = lines[number + 1].text.lstrip() if number + 1 < len(lines) else ""
        if not text.strip():
            if current:
                yield current[0], current[1], current[2]
                current = []
            continue
        md = _MD_HEADING.match(text)
        bullet = _BULLET.match(text)
        continues = current and (
            (current[0] == "bullet" and not bullet and not md and text[:1] in " \t")
            or (current[0] == "text" and not bullet and not md and not _ends_sentence(current[3]))
        )
        if continues:
            current[2], current[3] = line.end, text
            continue
        if current:
            yield current[0], current[1], current[2]
        if md:
            kind = "md-heading"
        elif bullet:
            kind = "bullet"
        elif looks_like_heading(text) and not following[:1].islower():
            kind = "heading"
        else:
            kind = "text"
        current = [kind, line.start, line.end, text]
    if current:
        yield current[0], current[1], current[2]


# --------------------------------------------------------------------------- documents


def parse_document(raw: str, source: str) -> Document:
    """Parse one guideline's raw text into a :class:`Document`."""
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

    for kind, start, end in _blocks(raw):
        if kind in ("heading", "md-heading"):
            name = _heading_text(raw[start:end], kind)
            if title is None and not sections and not section.statements:
                title = name
                continue
            section = open_section(name, start)
            lead_in = last_text_statement = None
            continue
        is_bullet = kind == "bullet"
        body_start = start + (_BULLET.match(raw[start:end]).end() if is_bullet else 0)  # type: ignore[union-attr]
        block = raw[body_start:end]
        if not is_bullet:
            lead_in = None
        for s_start, s_end, labels in split_sentences(block):
            text = block[s_start:s_end]
            if not _has_words(text):
                continue
            statement = Statement(
                text=text,
                start=body_start + s_start,
                end=body_start + s_end,
                citations=tuple(labels),
                section=section.title,
                is_bullet=is_bullet,
                lead_in=lead_in if is_bullet else None,
            )
            section.statements.append(statement)
            if not is_bullet:
                last_text_statement = text
        if not is_bullet:
            lead_in = last_text_statement
    section.end = len(raw)
    if section.statements or section.title is not None:
        sections.append(section)
    return Document(source=source, title=title or _title_from_path(source), raw=raw, sections=sections)


def _heading_text(line: str, kind: str) -> str:
    if kind == "md-heading":
        match = _MD_HEADING.match(line)
        return match.group("title").strip() if match else line.strip("# \t")
    return line.strip()


def _has_words(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]{2,}", text))


def _title_from_path(source: str) -> str:
    return Path(source).stem.replace("-", " ").replace("_", " ").strip() or source


# --------------------------------------------------------------------------- files


def read_guideline(path: Path) -> str:
    """Read a guideline file as UTF-8 text, refusing what cannot be a guideline."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(
            f"{path.name}: unsupported file type '{path.suffix or '(none)'}'; "
            f"guideline files must be {' or '.join(SUPPORTED_SUFFIXES)}."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path.name}: cannot be read ({exc.strerror}).") from exc
    if len(data) > MAX_FILE_BYTES:
        raise CorpusError(f"{path.name}: {len(data):,} bytes is larger than the {MAX_FILE_BYTES:,}-byte limit.")
    if b"\x00" in data:
        raise CorpusError(f"{path.name}: looks like a binary file, not guideline text.")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path.name}: is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8 text."
        ) from exc
    # A BOM is kept: offsets index the text exactly as Path.read_text() returns it.
    return text


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file under the corpus folder (hidden files and README-style notes excluded).

    A symbolic link that leads outside the folder is left out: nothing outside
    the corpus folder is ever read (``load_corpus`` reports such links).
    """
    return [path for path in _candidate_files(corpus_dir) if not _leads_outside(path, corpus_dir)]


def _candidate_files(corpus_dir: Path) -> list[Path]:
    if not corpus_dir.is_dir():
        raise CorpusError(f"Corpus folder {corpus_dir} does not exist; create it and add .txt or .md guideline files.")
    return sorted(
        path
        for path in corpus_dir.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(corpus_dir).parts)
    )


def _leads_outside(path: Path, corpus_dir: Path) -> bool:
    return not path.resolve().is_relative_to(corpus_dir.resolve())


@dataclass
class Corpus:
    """The parsed documents of a corpus folder, and the files that could not be used."""

    directory: Path
    documents: list[Document]
    problems: list[str] = field(default_factory=list)

    def document(self, source: str) -> Document | None:
        return next((doc for doc in self.documents if doc.source == source), None)


def load_corpus(corpus_dir: Path) -> Corpus:
    """Parse every guideline file; a bad file is reported in ``problems``, never silently dropped.

    Raises :class:`CorpusError` only when no usable document remains.
    """
    documents: list[Document] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    for path in _candidate_files(corpus_dir):
        if _leads_outside(path, corpus_dir):
            problems.append(
                f"{path.relative_to(corpus_dir).as_posix()}: is a link to a file outside the corpus folder; "
                "skipped (copy the file into the folder to use it)."
            )
            continue
        source = path.relative_to(corpus_dir).as_posix()
        try:
            raw = read_guideline(path)
        except CorpusError as exc:
            problems.append(str(exc))
            continue
        digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
        if digest in seen:
            problems.append(f"{source}: identical to {seen[digest]}; skipped so its statements are not quoted twice.")
            continue
        document = parse_document(raw, source)
        document.sha256 = digest
        if not document.statements:
            problems.append(f"{source}: contains no statements (no sentences or bullet items) and was skipped.")
            continue
        seen[digest] = source
        documents.append(document)
    if not documents:
        detail = " ".join(problems) if problems else "it holds no .txt or .md files."
        raise CorpusError(f"No usable guideline in {corpus_dir}: {detail}")
    return Corpus(directory=corpus_dir, documents=documents, problems=problems)
