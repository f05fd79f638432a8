"""The on-disk index: FAISS's own file, the chunks as JSON Lines, and a manifest.

No pickle anywhere: ``index.faiss`` is written by ``faiss.write_index`` and the
rest is JSON validated with pydantic on the way back in. The manifest records
what the index was built from (model, dimension, chunker version, sha256 of
every corpus file) and the sha256 of the index files themselves, so a load can
tell *stale* (rebuild it) from *corrupt* (refuse it, name the file).

Builds are atomic: everything is written to a temporary folder beside the
index and swapped in with two renames, under a lock file, so an interrupted or
concurrent build never leaves a mix of old and new files.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.errors import IndexCorrupt, IndexFolderError, StaleIndex
from assistant.index import faiss_io
from assistant.index.lock import recover_before_load
from assistant.index.owned import read_marker
from assistant.index.verify import ShownCheck, cached_source_text, file_sha256, source_text
from assistant.ingest.chunking import CHUNKER_VERSION, Chunk
from assistant.ingest.files import SUPPORTED_SUFFIXES, TEXT_SUFFIXES, SourceText, corpus_files
from assistant.ingest.metadata import DocumentMeta
from assistant.settings import Settings

INDEX_FILE = "index.faiss"
CHUNKS_FILE = "chunks.jsonl"
MANIFEST_FILE = "manifest.json"
DOCUMENTS_FILE = "documents.json"
TEXTS_DIR = "texts"
ARTIFACTS = (INDEX_FILE, CHUNKS_FILE, MANIFEST_FILE, DOCUMENTS_FILE)

Progress = Callable[[int, int], None]
LOAD_ATTEMPTS = 10  # a folder swapped mid-load is read again; ten swaps in a row during loads is not a race


class IndexMissing(StaleIndex):
    """No index has been built in this folder yet."""


class Manifest(BaseModel):
    """What an index was built from; compared with the present on every load."""

    model_config = ConfigDict(extra="forbid")

    tool_version: str
    model: str
    model_dimension: int
    chunker_version: str
    corpus: dict[str, str]
    files: dict[str, str]
    created_at: str
    build_seconds: float
    n_documents: int
    n_chunks: int
    problems: list[str] = []
    notes: list[str] = []
    reused_documents: int = 0
    vector_index: str = "flat"  # "flat" (exact) or "hnsw" (above Settings.ann_threshold statements)
    # The random id in the folder's marker file (None: built before marker ids; the next build adds one).
    owner_id: str | None = None
    # Per source, what its quotes' offsets index as the parser decided from the file type: "raw" or "canonical".
    offsets: dict[str, str] = {}


@dataclass
class LoadedIndex:
    directory: Path
    manifest: Manifest
    chunks: list[Chunk]
    faiss_index: faiss.Index
    documents: list[DocumentMeta] = field(default_factory=list)
    corpus_dir: Path | None = None
    _shown: ShownCheck | None = field(default=None, repr=False)

    def canonical_text(self, source: str) -> str | None:
        """The text a PDF/HTML/repaired file's quotes index, re-derived from the file (None when it changed)."""
        if self.corpus_dir is None:
            return read_canonical_text(self.directory, source)
        path = self.corpus_dir / source
        try:
            digest = file_sha256(path)
        except OSError:
            return None
        if digest != self.manifest.corpus.get(source):
            return None
        derived = source_text(path, digest)
        return derived.text if derived.offsets == "canonical" else None

    @property
    def shown(self) -> ShownCheck:
        """The per-answer check of statements against their guideline files (see :mod:`assistant.index.verify`)."""
        if self._shown is None:
            self._shown = ShownCheck(self.corpus_dir or Path("."), self.manifest.corpus)
        return self._shown


@dataclass
class IndexStatus:
    """What ``index status`` and the UI sidebar show."""

    directory: Path
    exists: bool
    up_to_date: bool
    reason: str
    manifest: Manifest | None


# --------------------------------------------------------------------------- hashing


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def corpus_fingerprint(corpus_dir: Path) -> dict[str, str]:
    """sha256 of every readable guideline file (by path relative to the corpus folder).

    Pipes, devices and unreadable files are left out, never opened (a FIFO would
    block forever): the corpus loader reports them as skipped, and once such a
    file becomes readable the fingerprint changes, so the index is rebuilt.
    """
    found: dict[str, str] = {}
    for path in corpus_files(corpus_dir):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            if not stat.S_ISREG(path.stat().st_mode):
                continue
            found[path.relative_to(corpus_dir).as_posix()] = sha256_file(path)
        except OSError:
            continue
    return found


# --------------------------------------------------------------------------- loading


def read_manifest(index_dir: Path) -> Manifest:
    path = index_dir / MANIFEST_FILE
    if not index_dir.is_dir() or not any((index_dir / name).exists() for name in ARTIFACTS):
        raise IndexMissing(f"No index has been built in {index_dir} yet.")
    marker = read_marker(index_dir)
    if marker is None:
        # Ownership is the marker alone: a web app's manifest.json is no index, and no advice may replace it.
        raise IndexFolderError(
            f"{index_dir} was not made by guideline-assistant (it has no index marker), so it is neither read "
            "nor replaced; point --index (or GUIDELINE_ASSISTANT_INDEX_DIR) at a new, empty folder."
        )
    if not path.is_file():
        raise IndexCorrupt(f"{path} is missing; run `guideline-assistant index build` to rebuild the index.")
    try:
        manifest = Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as exc:
        raise IndexCorrupt(
            f"{path} is not a valid index manifest ({_first_line(exc)}); run `guideline-assistant index build`."
        ) from exc
    if manifest.owner_id != marker.id:
        raise IndexCorrupt(
            f"{index_dir}: its marker and its manifest were not written by the same build; "
            "rebuild the index with `guideline-assistant index build`."
        )
    return manifest


def staleness(manifest: Manifest, settings: Settings) -> str | None:
    """Why the index no longer matches the corpus or the settings, or None when it does."""
    if manifest.model != settings.model:
        return f"it was built with model '{manifest.model}', the settings name '{settings.model}'"
    if manifest.chunker_version != CHUNKER_VERSION:
        return f"it was built by chunker version {manifest.chunker_version}, this is version {CHUNKER_VERSION}"
    current = corpus_fingerprint(settings.corpus_dir)
    if current != manifest.corpus:
        changed = sorted(set(current) ^ set(manifest.corpus) | {k for k in current if manifest.corpus.get(k) != current[k]})
        return "the corpus changed since it was built (" + ", ".join(changed[:5]) + ")"
    return None


def load_index(settings: Settings, check_stale: bool = True) -> LoadedIndex:
    """Load and verify the index; raise StaleIndex/IndexMissing to rebuild, IndexCorrupt to refuse.

    A build swaps a whole new folder in with a rename, so a reader that opened the
    manifest of one build and a file of the next sees a checksum mismatch. When the
    folder was swapped while this load ran, the load is repeated on the new build:
    a reader only ever returns one consistent build, and never a spurious "corrupt".
    """
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        before = _folder_identity(settings.index_dir)
        try:
            return _load_once(settings, check_stale)
        except (IndexCorrupt, StaleIndex, IndexFolderError, IndexMissing, FileNotFoundError) as exc:
            # A file missing mid-load is the same race: the folder it was in was just swapped away (a marker
            # or the whole folder read between a build's two renames looks absent for that instant).
            if attempt == LOAD_ATTEMPTS or _folder_identity(settings.index_dir) == before:
                if isinstance(exc, FileNotFoundError):
                    raise IndexCorrupt(
                        f"{settings.index_dir}: {Path(exc.filename or '?').name} is missing; "
                        "rebuild it with `guideline-assistant index build`."
                    ) from None
                raise
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _folder_identity(index_dir: Path) -> tuple[int, int] | None:
    """Which folder is at the index path right now (each build swaps in a new one)."""
    try:
        info = os.stat(index_dir)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _load_once(settings: Settings, check_stale: bool) -> LoadedIndex:
    index_dir = settings.index_dir
    recover_before_load(index_dir)
    manifest = read_manifest(index_dir)
    if check_stale and (reason := staleness(manifest, settings)):
        raise StaleIndex(f"The index in {index_dir} is out of date: {reason}.")
    for name, digest in manifest.files.items():
        if name.startswith(TEXTS_DIR + "/"):
            _verify_file(index_dir / name, digest)
    for name in (INDEX_FILE, CHUNKS_FILE):
        _verify_file(index_dir / name, manifest.files.get(name))
    faiss_index = _read_faiss(index_dir / INDEX_FILE)
    chunks = _read_chunks(index_dir / CHUNKS_FILE, settings.corpus_dir)
    documents = _read_documents(index_dir, manifest)
    verify_quotes(chunks, settings.corpus_dir, index_dir, manifest.corpus, manifest.offsets, documents)
    if faiss_index.ntotal != len(chunks) or faiss_index.d != manifest.model_dimension:
        raise IndexCorrupt(
            f"{index_dir / INDEX_FILE} holds {faiss_index.ntotal} vectors of dimension {faiss_index.d}, "
            f"but the manifest lists {len(chunks)} chunks of dimension {manifest.model_dimension}; rebuild the index."
        )
    return LoadedIndex(index_dir, manifest, chunks, faiss_index, documents, settings.corpus_dir)


def verify_quotes(
    chunks: list[Chunk],
    corpus_dir: Path,
    index_dir: Path,
    built_from: dict[str, str],
    offsets: dict[str, str] | None = None,
    documents: list[DocumentMeta] | None = None,
) -> None:
    """Every statement must be the guideline's own words at its offsets, or the index is refused.

    The checksums only prove the index files agree with each other; this proves the
    statements agree with the guideline files. A text file's text is re-derived from
    the file by the parser, and the offsets mode of every statement, document and
    manifest entry must be the one the parser gives that file, so a ``.txt`` switched
    to "canonical" with a forged text is refused. A PDF/HTML file is re-extracted here
    only when this process already holds its extraction (extracting a library's PDFs
    takes a minute): otherwise its stored text must exist and agree with its
    statements, and the re-extraction that vouches for a quote happens before the quote
    is shown (:class:`~assistant.index.verify.ShownCheck`). A file changed since the
    build is skipped here: that index is stale, and :func:`staleness` says so (and
    answers do not show its statements).
    """
    derived: dict[str, SourceText | None] = {}
    for chunk in chunks:
        if chunk.source not in derived:
            derived[chunk.source] = _derived_text(corpus_dir, index_dir, chunk.source, built_from)
        text = derived[chunk.source]
        if text is None:
            continue
        if chunk.offsets != text.offsets or text.text[chunk.start : chunk.end] != chunk.text:
            raise IndexCorrupt(
                f"{index_dir / CHUNKS_FILE}: a statement from {chunk.source} does not match the guideline text "
                "at its offsets (edited or damaged index); rebuild the index with `guideline-assistant index build`."
            )
    claimed = dict(offsets or {}) | {meta.source: meta.offsets for meta in documents or []}
    for source, mode in claimed.items():
        if source not in derived:
            derived[source] = _derived_text(corpus_dir, index_dir, source, built_from)
        text = derived[source]
        if text is not None and text.offsets != mode:
            raise IndexCorrupt(
                f"{index_dir}: {source} is recorded with '{mode}' offsets, but its file type gives "
                f"'{text.offsets}' (edited index); rebuild the index with `guideline-assistant index build`."
            )


def _derived_text(corpus_dir: Path, index_dir: Path, source: str, built_from: dict[str, str]) -> SourceText | None:
    """The text an unchanged source's quotes index; None when the file changed or cannot be read (stale).

    Text files are re-derived (cheap). PDF/HTML files use this process's extraction when
    it has one; else the stored text, which must exist ("missing" is no pass) and is
    checked against the extraction before any of its quotes is shown.
    """
    path = corpus_dir / source
    try:
        digest = file_sha256(path)
        if built_from.get(source) != digest:
            return None
        if path.suffix.lower() in TEXT_SUFFIXES:
            return source_text(path, digest)
    except Exception:  # an unreadable source makes the index stale, which staleness() reports
        return None
    if (cached := cached_source_text(path, digest)) is not None:
        return cached
    stored = read_canonical_text(index_dir, source)
    if stored is None:
        raise IndexCorrupt(
            f"{text_path(index_dir, source)} (the text the quotes of {source} index) is missing; "
            "rebuild the index with `guideline-assistant index build`."
        )
    return SourceText(stored, "canonical")


def text_path(index_dir: Path, source: str) -> Path:
    """Where the canonical text of ``source`` is stored: ``texts/<source>.txt`` inside the index."""
    return index_dir / TEXTS_DIR / f"{source}.txt"


def read_canonical_text(index_dir: Path, source: str) -> str | None:
    """The stored canonical text for a source, or None when its offsets index the file itself."""
    path = text_path(index_dir, source)
    root = (index_dir / TEXTS_DIR).resolve()
    if not path.resolve().is_relative_to(root) or not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorrupt(f"{path} cannot be read ({_first_line(exc)}); rebuild the index.") from exc


def read_documents(settings: Settings) -> list[DocumentMeta]:
    """The document list of an index without loading vectors; empty when there is no readable index."""
    try:
        return _read_documents(settings.index_dir, read_manifest(settings.index_dir))
    except (StaleIndex, IndexCorrupt, IndexFolderError):
        return []


def _read_documents(index_dir: Path, manifest: Manifest) -> list[DocumentMeta]:
    """Per-document metadata; an index from before it existed simply has none."""
    path = index_dir / DOCUMENTS_FILE
    if DOCUMENTS_FILE not in manifest.files:
        return []
    _verify_file(path, manifest.files.get(DOCUMENTS_FILE))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [DocumentMeta.model_validate(item) for item in data]
    except (ValidationError, ValueError, TypeError) as exc:
        raise IndexCorrupt(f"{path} is not a valid document list ({_first_line(exc)}); rebuild the index.") from exc


def _verify_file(path: Path, expected: str | None) -> None:
    if not path.is_file():
        raise IndexCorrupt(f"{path} is missing; run `guideline-assistant index build` to rebuild the index.")
    if expected is None or sha256_file(path) != expected:
        raise IndexCorrupt(
            f"{path} does not match the checksum in its manifest (truncated or modified); "
            "run `guideline-assistant index build` to rebuild the index."
        )


def _read_faiss(path: Path) -> faiss.Index:
    """FAISS's file, its header sized against the file first (see :mod:`assistant.index.faiss_io`)."""
    return faiss_io.read_index(path)


def _read_chunks(path: Path, corpus_dir: Path) -> list[Chunk]:
    root = corpus_dir.resolve()
    chunks: list[Chunk] = []
    # Bytes, decoded per line inside the try: an undecodable line is a corrupt record, not a crash.
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                chunk = Chunk.model_validate_json(line.decode("utf-8"))
            except (ValidationError, ValueError) as exc:
                raise IndexCorrupt(f"{path} line {number} is not a valid chunk record; rebuild the index.") from exc
            if not _inside(root, chunk.source):
                raise IndexCorrupt(
                    f"{path} line {number} points outside the corpus folder ({chunk.source!r}), "
                    "so it is refused; rebuild the index."
                )
            chunks.append(chunk)
    return chunks


def _inside(root: Path, source: str) -> bool:
    """Whether a chunk's source names a file inside the corpus; a NUL byte or a link loop is not a path at all."""
    if "\x00" in source:
        return False
    try:
        return (root / source).resolve().is_relative_to(root)
    except (OSError, RuntimeError, ValueError):
        return False


def index_status(settings: Settings) -> IndexStatus:
    """A cheap look at the index: never loads vectors or the model."""
    try:
        manifest = read_manifest(settings.index_dir)
    except IndexMissing as exc:
        return IndexStatus(settings.index_dir, False, False, str(exc), None)
    except (IndexCorrupt, IndexFolderError) as exc:
        return IndexStatus(settings.index_dir, True, False, str(exc), None)
    try:
        reason = staleness(manifest, settings)
        for name in (INDEX_FILE, CHUNKS_FILE):
            _verify_file(settings.index_dir / name, manifest.files.get(name))
    except Exception as exc:  # a damaged file or an unreadable corpus means "not up to date", never a crash
        return IndexStatus(settings.index_dir, True, False, str(exc), manifest)
    return IndexStatus(settings.index_dir, True, reason is None, reason or "up to date", manifest)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
