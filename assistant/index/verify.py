"""Everything an answer shows is checked against the guideline file it comes from.

The index's checksums only prove that its files agree with each other: whoever
can edit ``chunks.jsonl`` can recompute them. So the words shown as a quote, and
everything shown with them (lead-in, section heading, title, page and page label,
citation labels, reference entries, offsets mode), are re-derived from the
guideline file itself and compared:

* **at load**, every statement's text must be the file's own text at its offsets,
  the text being re-derived from the file by the parser (a PDF/HTML canonical text
  is re-extracted, never read from ``index/texts``), and its offsets mode must be
  the one the parser gives that file type (a ``.txt`` never accepts a canonical text);
* **per answer**, each retrieved statement must equal, field by field, the
  statement the parser makes of the file today. A file's parse is cached by its
  sha256, and the cheap size/mtime stat decides when the hash must be taken again.

What fails is not shown; the answer carries a one-line note saying why.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from assistant.ingest.chunking import Chunk, chunk_file
from assistant.ingest.files import SUPPORTED_SUFFIXES, ParsedFile, SourceText, corpus_files, parse_file, read_source

CACHE_ENTRIES = 512  # parsed files kept per process (by sha256): a whole library fits
CHANGED_NOTE = "{source} changed since the index was built; its statements are not shown until the index is rebuilt."
MISMATCH_NOTE = (
    "{count} statement(s) from {source} did not match the guideline file (an edited or damaged index) "
    "and were not shown; rebuild the index."
)
LIBRARY_CHANGED_NOTE = (
    "Note: the library changed since this index was built ({names}); until it is rebuilt, answers come "
    "from the indexed files only, and statements of changed files are not shown."
)
UNREADABLE_NOTE = "{source} cannot be read now, so its statements cannot be checked and are not shown."

_lock = threading.Lock()
_texts: OrderedDict[tuple[str, str], SourceText] = OrderedDict()
_parses: OrderedDict[tuple[str, str], dict[str, str]] = OrderedDict()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remember(cache: OrderedDict, key: tuple[str, str], value: object) -> None:
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_ENTRIES:
            cache.popitem(last=False)


def source_text(path: Path, digest: str) -> SourceText:
    """The text the parser reads from ``path`` (PDF/HTML re-extracted, text repaired), cached by its sha256."""
    key = (str(path), digest)
    with _lock:
        cached = _texts.get(key)
    if cached is None:
        cached = read_source(path)
        _remember(_texts, key, cached)
    return cached


def cached_source_text(path: Path, digest: str) -> SourceText | None:
    """This process's text of the file with this sha256, if it already derived one (never reads the file)."""
    with _lock:
        return _texts.get((str(path), digest))


def remember_parsed(path: Path, digest: str, parsed: ParsedFile) -> None:
    """A build's fresh parse of a file is the parser's own output: later checks in this process reuse it."""
    _remember(_texts, (str(path), digest), parsed.source_text)
    _remember(_parses, (str(path), digest), {chunk.id: chunk.model_dump_json() for chunk in chunk_file(parsed)})


def parsed_statements(path: Path, source: str, digest: str) -> dict[str, str]:
    """Every statement the parser makes of the file, as JSON by id, cached by the file's sha256."""
    key = (str(path), digest)
    with _lock:
        cached = _parses.get(key)
    if cached is None:
        parsed = parse_file(path, source)
        remember_parsed(path, digest, parsed)
        with _lock:
            cached = _parses[key]
    return cached


@dataclass
class _Seen:
    """What one source file was when last checked: its stat, hash, and whether it is the file built from."""

    stat: tuple[int, int]
    digest: str | None


class ShownCheck:
    """The per-answer check: which statements may be shown, and a one-line note for each that may not."""

    def __init__(self, corpus_dir: Path, built_from: dict[str, str]) -> None:
        self._corpus = corpus_dir
        self._built_from = dict(built_from)
        self._seen: dict[str, _Seen] = {}
        self._lock = threading.Lock()

    def _digest(self, source: str) -> str | None:
        """The file's sha256 now (None when unreadable); re-hashed only when its size or mtime moved."""
        path = self._corpus / source
        try:
            info = path.stat()
        except OSError:
            return None
        stat = (info.st_size, info.st_mtime_ns)
        with self._lock:
            seen = self._seen.get(source)
        if seen is not None and seen.stat == stat:
            return seen.digest
        try:
            digest = file_sha256(path)
        except OSError:
            return None
        with self._lock:
            self._seen[source] = _Seen(stat, digest)
        return digest

    def changed_sources(self, sources: Iterable[str]) -> list[str]:
        """Of these sources, the ones whose file is no longer the one the index was built from."""
        return [source for source in sources if self._digest(source) != self._built_from.get(source)]

    def library_changes(self, corpus_dir: Path) -> list[str]:
        """The guideline files added, removed or changed since the build (a stat per file; hashes only when moved).

        This is the freshness check a long-running server or UI makes per question.
        """
        try:
            present = {
                path.relative_to(corpus_dir).as_posix()
                for path in corpus_files(corpus_dir)
                if path.suffix.lower() in SUPPORTED_SUFFIXES and path.is_file()
            }
        except Exception:  # the corpus folder itself is gone or unreadable: everything changed
            return sorted(self._built_from)
        added_or_removed = present ^ set(self._built_from)
        changed = [source for source in present & set(self._built_from) if self._digest(source) != self._built_from[source]]
        return sorted(added_or_removed | set(changed))

    def filter(self, chunks: list[Chunk]) -> tuple[list[bool], list[str]]:
        """For each chunk whether it matches its guideline file today; and why the others are not shown."""
        verdicts: list[bool] = []
        problems: dict[str, str] = {}
        mismatched: dict[str, int] = {}
        for chunk in chunks:
            ok, problem = self._check(chunk)
            verdicts.append(ok)
            if problem == "mismatch":
                mismatched[chunk.source] = mismatched.get(chunk.source, 0) + 1
            elif problem:
                problems.setdefault(chunk.source, problem)
        notes = list(problems.values())
        notes += [MISMATCH_NOTE.format(count=count, source=source) for source, count in mismatched.items()]
        return verdicts, notes

    def _check(self, chunk: Chunk) -> tuple[bool, str | None]:
        digest = self._digest(chunk.source)
        if digest is None:
            return False, UNREADABLE_NOTE.format(source=chunk.source)
        if digest != self._built_from.get(chunk.source):
            return False, CHANGED_NOTE.format(source=chunk.source)
        try:
            statements = parsed_statements(self._corpus / chunk.source, chunk.source, digest)
        except Exception:  # a file the parser no longer accepts vouches for nothing
            return False, UNREADABLE_NOTE.format(source=chunk.source)
        if statements.get(chunk.id) != chunk.model_dump_json():
            return False, "mismatch"
        return True, None


def library_changed_note(changed: list[str]) -> str:
    """The one line every answer carries while the index is older than the library."""
    names = ", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
    return LIBRARY_CHANGED_NOTE.format(names=names)


def forget_derived() -> None:
    """Drop this process's cached extractions and parses (what a freshly started process would have)."""
    with _lock:
        _texts.clear()
        _parses.clear()
