"""Guideline files -> parsed documents: which files count, how each format is read, what was skipped.

Text and Markdown files are parsed as they are, so a quote's offsets index the
file itself (``raw[start:end] == text``). PDF and HTML files, and text files
whose encoding damage had to be repaired, are first turned into a *canonical
text* (see :mod:`assistant.ingest.extracted`); the index stores that text, and a
quote's offsets index it instead. Every file that cannot be used is reported in
:attr:`Corpus.problems` with a one-line message naming it; none is dropped silently.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.errors import CorpusError, UnsupportedFileType
from assistant.ingest.extracted import PageSpan, page_at
from assistant.ingest.metadata import DocumentMeta, describe
from assistant.ingest.parser import Document, parse_document

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
PDF_SUFFIXES = (".pdf",)
HTML_SUFFIXES = (".html", ".htm")
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + PDF_SUFFIXES + HTML_SUFFIXES
MAX_FILE_BYTES = 5_000_000
MAX_BINARY_BYTES = 100_000_000  # PDFs carry fonts and images: a 500-page guideline is tens of MB
MAX_DEPTH = 64

Offsets = Literal["raw", "canonical"]
FileProgress = Callable[[int, int, str], None]


@dataclass
class SourceText:
    """What the parser reads from one file, and what its offsets index."""

    text: str
    offsets: Offsets
    pages: list[PageSpan] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    def page_at(self, offset: int) -> PageSpan | None:
        return page_at(self.pages, offset)


@dataclass
class ParsedFile:
    """One usable guideline: the parse, the text it was parsed from, and its metadata."""

    document: Document
    source_text: SourceText
    meta: DocumentMeta


def size_limit(name: str) -> int:
    """The largest file of this type the index reads, in bytes: the one limit uploads are checked against too.

    Text is parsed in memory (5 MB is a whole textbook); a saved page carries markup (4x); a PDF fonts and images.
    """
    suffix = Path(name).suffix.lower()
    if suffix in PDF_SUFFIXES:
        return MAX_BINARY_BYTES
    return MAX_FILE_BYTES * 4 if suffix in HTML_SUFFIXES else MAX_FILE_BYTES


def read_guideline(path: Path) -> str:
    """Read a text guideline as UTF-8, refusing what cannot be a guideline (the text itself, unrepaired)."""
    if path.suffix.lower() not in TEXT_SUFFIXES:
        raise UnsupportedFileType(
            f"{path.name}: unsupported file type '{path.suffix or '(none)'}'; "
            f"guideline files must be {', '.join(SUPPORTED_SUFFIXES)}."
        )
    data = _read_bytes(path, size_limit(path.name))
    if b"\x00" in data:
        raise CorpusError(f"{path.name}: looks like a binary file, not guideline text.")
    try:
        # A BOM is kept: offsets index the text exactly as Path.read_text() returns it.
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path.name}: is not valid UTF-8 (byte {exc.start}); re-save it as UTF-8 text.") from exc


def read_source(path: Path) -> SourceText:
    """The text the parser reads from any supported file (PDF and HTML through their readers)."""
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        from assistant.ingest.pdf import extract_pdf

        _read_bytes(path, size_limit(path.name), probe_only=True)
        extracted = extract_pdf(path)
        return SourceText(extracted.text, "canonical", extracted.pages, _named(path.name, extracted.repairs))
    if suffix in HTML_SUFFIXES:
        from assistant.ingest.html import extract_html

        extracted = extract_html(_read_bytes(path, size_limit(path.name)), path.name)
        return SourceText(extracted.text, "canonical", [], _named(path.name, extracted.repairs))
    raw = read_guideline(path)
    repaired, repairs = _repair_encoding(raw, path.name)
    return SourceText(repaired, "canonical" if repairs else "raw", [], repairs)


def _named(name: str, notes: list[str]) -> list[str]:
    """Every note starts with the file it is about, so a list of notes over a library stays readable."""
    return [note if note.startswith(f"{name}:") else f"{name}: {note}" for note in notes]


def _read_bytes(path: Path, limit: int, probe_only: bool = False) -> bytes:
    """The file's bytes, or a one-line :class:`CorpusError` (unreadable, not a regular file, too large)."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise CorpusError(f"{path.name}: is not a regular file (a pipe, device or socket); skipped.")
        if info.st_size > limit:
            raise CorpusError(f"{path.name}: {info.st_size:,} bytes is larger than the {limit:,}-byte limit.")
        if probe_only:
            with path.open("rb"):
                return b""
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path.name}: cannot be read ({exc.strerror or type(exc).__name__}).") from exc


def _repair_encoding(text: str, name: str) -> tuple[str, list[str]]:
    """Mojibake (``Â­``, ``ï¬``, ``â¼``) repaired with ftfy; the repair is recorded, never silent.

    Only ``fix_encoding`` runs: quotes, dashes and ligature-free text are left exactly
    as written, so a file without damage keeps offsets into its own bytes.
    """
    import ftfy

    fixed = ftfy.fix_encoding(text)
    if fixed == text:
        return text, []
    before, after = text.splitlines(), fixed.splitlines()
    lines = sum(1 for old, new in zip(before, after, strict=False) if old != new) + abs(len(before) - len(after))
    return fixed, [f"{name}: repaired encoding damage (mojibake) on {lines} line(s) with ftfy; quotes index the repaired text."]


def identical_file(corpus_dir: Path, data: bytes) -> str | None:
    """The guideline file in the folder with exactly these bytes (hashing only files of the same size), or None."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        candidates = corpus_files(corpus_dir)
    except CorpusError:
        return None
    for path in candidates:
        try:
            if path.stat().st_size == len(data) and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
                return path.relative_to(corpus_dir).as_posix()
        except OSError:
            continue
    return None


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every candidate file under the corpus folder that stays inside it (hidden files excluded)."""
    return [path for path in _candidate_files(corpus_dir, []) if not _leads_outside(path, corpus_dir)]


def _candidate_files(corpus_dir: Path, problems: list[str]) -> list[Path]:
    """Files under the folder, walked with an explicit stack (no recursion); odd entries are reported, not raised.

    Python's ``os.walk`` recurses once per level, so a 1,500-deep tree raised
    ``RecursionError``; here depth is bounded by :data:`MAX_DEPTH` with a message.
    """
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"Corpus folder {corpus_dir} does not exist; create it and add guideline files "
            f"({', '.join(SUPPORTED_SUFFIXES)})."
        )
    found: list[Path] = []
    stack: list[tuple[Path, int]] = [(corpus_dir, 0)]
    while stack:
        here, depth = stack.pop()
        for entry in _entries(here, corpus_dir, problems):
            path = here / entry.name
            relative = path.relative_to(corpus_dir).as_posix()
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 >= MAX_DEPTH:
                    problems.append(f"{relative}: folders nested deeper than {MAX_DEPTH}; skipped.")
                else:
                    stack.append((path, depth + 1))
            elif entry.is_symlink():
                _linked(path, corpus_dir, relative, found, problems)
            else:
                found.append(path)
    return sorted(found)


def _entries(folder: Path, corpus_dir: Path, problems: list[str]) -> list[os.DirEntry[str]]:
    """The visible entries of one folder, sorted; an unreadable folder is a message, not a crash."""
    try:
        with os.scandir(folder) as listing:
            return sorted((entry for entry in listing if not entry.name.startswith(".")), key=lambda e: e.name)
    except OSError as exc:
        name = folder.relative_to(corpus_dir).as_posix() if folder != corpus_dir else str(folder)
        problems.append(f"{name}: folder cannot be read ({exc.strerror or type(exc).__name__}); skipped.")
        return []


def _linked(path: Path, corpus_dir: Path, relative: str, found: list[Path], problems: list[str]) -> None:
    """A symbolic link: a file is a candidate; a loop, a dead link or a folder link is reported or walked in place."""
    try:
        target = path.resolve(strict=True)
    except RuntimeError:  # Python 3.11 reports a link loop this way
        problems.append(f"{relative}: is a symbolic link loop; skipped.")
        return
    except OSError as exc:
        loop = exc.errno == errno.ELOOP
        problems.append(f"{relative}: is a {'symbolic link loop' if loop else 'broken link'}; skipped.")
        return
    if target.is_dir():
        # A linked folder inside the corpus is walked at its real place; one outside is never read.
        if not target.is_relative_to(corpus_dir.resolve()):
            problems.append(f"{relative}: is a link to a folder outside the corpus folder; skipped.")
        return
    found.append(path)


def _leads_outside(path: Path, corpus_dir: Path) -> bool:
    try:
        return not path.resolve().is_relative_to(corpus_dir.resolve())
    except (OSError, RuntimeError):
        return True


@dataclass
class Corpus:
    """The parsed documents of a corpus folder, and the files that could not be used."""

    directory: Path
    files: list[ParsedFile]
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs made to files that were used

    @property
    def documents(self) -> list[Document]:
        return [parsed.document for parsed in self.files]

    def document(self, source: str) -> Document | None:
        return next((doc for doc in self.documents if doc.source == source), None)


def extracted_by_reader(path: Path) -> bool:
    """PDF and HTML readers mark headings themselves; only their ``#`` lines are headings."""
    return path.suffix.lower() in PDF_SUFFIXES + HTML_SUFFIXES


def parse_file(path: Path, source: str) -> ParsedFile:
    """Read and parse one file; :class:`CorpusError` (one line, naming it) when it cannot be used."""
    source_text = read_source(path)
    document = parse_document(source_text.text, source, explicit_headings=extracted_by_reader(path))
    document.sha256 = hashlib.sha256(source_text.text.encode("utf-8")).hexdigest()
    if not document.statements:
        raise CorpusError(f"{source}: contains no statements (no sentences, bullet items or table rows) and was skipped.")
    return ParsedFile(document, source_text, describe(document, source_text.pages, source_text.offsets))


def _parse_one(path: Path, source: str) -> ParsedFile | str:
    """One file parsed, or the one-line problem that keeps it out (runs in a worker process too)."""
    try:
        return parse_file(path, source)
    except CorpusError as exc:
        return str(exc)
    except (RecursionError, MemoryError, ValueError) as exc:  # hostile content must not stop the library
        return f"{source}: could not be parsed ({type(exc).__name__}); skipped."


# A worker process costs about a second to start (it imports the parser and the PDF reader),
# so a pool pays off only for two PDFs or more (one PDF sets the floor whatever the pool does:
# 6 files with one PDF parsed 0.93x as fast in the pool, on a busy machine) or many text files.
POOL_MIN_FILES = 16


def _workers(todo: list[tuple[Path, str]]) -> int:
    """Worker processes for these files: one per core (at most one per file), or 0 to parse here."""
    cores = os.cpu_count() or 1
    pdfs = sum(1 for path, _ in todo if path.suffix.lower() in PDF_SUFFIXES)
    if cores < 2 or len(todo) < 2 or (pdfs < 2 and len(todo) < POOL_MIN_FILES) or not _main_is_reimportable():
        return 0
    return min(cores, len(todo))


def _main_is_reimportable() -> bool:
    """Whether a ``spawn`` worker may import this process's main script (multiprocessing re-runs it as ``__mp_main__``).

    ``python -m package`` is skipped by multiprocessing, and a script guarded by
    ``if __name__ == "__main__"`` (console scripts, pytest) does nothing when re-run.
    A Streamlit page is the main script *without* a guard: each worker would run the
    whole page again (and start a build of its own), so there files are parsed here.
    """
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and str(spec.name).endswith("__main__"):
        return True
    path = getattr(main, "__file__", None)
    if not path:
        return True  # an interactive session: there is no script to re-run
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "__name__ == '__main__'" in text or '__name__ == "__main__"' in text


def _parse_all(
    todo: list[tuple[Path, str]], progress: FileProgress | None, parallel: bool = True
) -> dict[str, ParsedFile | str]:
    """Every file parsed, in a process pool bounded by the cores when that pays off; progress after each file.

    Parsing is CPU-bound Python (PDF text extraction above all), so threads would
    take turns on one core; separate processes (started fresh with ``spawn``: the
    caller may hold threads, and forking a threaded process can deadlock) parse
    files side by side. Largest files go first so a long PDF does not start last.
    """
    results: dict[str, ParsedFile | str] = {}

    def record(source: str, result: ParsedFile | str) -> None:
        results[source] = result
        if progress:
            progress(len(results), len(todo), source)

    if progress:
        progress(0, len(todo), "")
    workers = _workers(todo) if parallel else 0
    if workers:
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool
        from multiprocessing import get_context

        by_size = sorted(todo, key=lambda item: -_size(item[0]))
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_parse_one, path, source): source for path, source in by_size}
                for future in as_completed(futures):
                    record(futures[future], future.result())
        except BrokenProcessPool:  # a worker died (out of memory): parse what is left here, one by one
            pass
    for path, source in todo:
        if source not in results:
            record(source, _parse_one(path, source))
    return results


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def load_corpus(
    corpus_dir: Path,
    skip: frozenset[str] = frozenset(),
    progress: FileProgress | None = None,
    known: dict[str, str] | None = None,
    parallel: bool = True,
) -> Corpus:
    """Parse every guideline file; a bad file is reported in ``problems``, never silently dropped.

    ``skip`` names sources the caller already holds unchanged (the index's incremental
    build keeps their statements and vectors), so they are not read again. ``known`` maps
    the text sha256 of those kept files to their names, so a copy of one of them is refused
    by content (not only a copy of a file parsed in this build). Raises
    :class:`CorpusError` only when no usable document remains and nothing was skipped.
    ``progress`` gets ``(files read, files to read, file)`` from 0 up to the total;
    ``parallel=False`` parses in this process only (the benchmark's comparison).
    """
    problems: list[str] = []
    notes: list[str] = []
    parsed: list[ParsedFile] = []
    seen: dict[str, str] = dict(known or {})
    todo: list[tuple[Path, str]] = []
    for path in _candidate_files(corpus_dir, problems):
        source = path.relative_to(corpus_dir).as_posix()
        if source in skip:
            continue
        if _leads_outside(path, corpus_dir):
            problems.append(
                f"{source}: is a link to a file outside the corpus folder; skipped (copy the file into the folder to use it)."
            )
            continue
        todo.append((path, source))
    results = _parse_all(todo, progress, parallel)
    for _, source in todo:  # candidate order, whatever order the workers finished in
        one = results[source]
        if isinstance(one, str):
            problems.append(one)
            continue
        digest = one.document.sha256
        if digest in seen:
            problems.append(f"{source}: identical to {seen[digest]}; skipped so its statements are not quoted twice.")
            continue
        seen[digest] = source
        notes.extend(one.source_text.repairs)
        parsed.append(one)
    if not parsed and not skip:
        detail = " ".join(problems) if problems else f"it holds no guideline files ({', '.join(SUPPORTED_SUFFIXES)})."
        raise CorpusError(f"No usable guideline in {corpus_dir}: {detail}")
    return Corpus(directory=corpus_dir, files=parsed, problems=problems, notes=notes)
