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

import contextlib
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from assistant import __version__
from assistant.errors import IndexBusy, IndexCorrupt, StaleIndex
from assistant.index.embeddings import Embedder
from assistant.ingest.chunking import CHUNKER_VERSION, Chunk, chunk_corpus
from assistant.ingest.parser import SUPPORTED_SUFFIXES, corpus_files, load_corpus
from assistant.settings import Settings

INDEX_FILE = "index.faiss"
CHUNKS_FILE = "chunks.jsonl"
MANIFEST_FILE = "manifest.json"
ARTIFACTS = (INDEX_FILE, CHUNKS_FILE, MANIFEST_FILE)

Progress = Callable[[int, int], None]


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


@dataclass
class LoadedIndex:
    directory: Path
    manifest: Manifest
    chunks: list[Chunk]
    faiss_index: faiss.Index


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
    """sha256 of every guideline file (by path relative to the corpus folder)."""
    return {
        path.relative_to(corpus_dir).as_posix(): sha256_file(path)
        for path in corpus_files(corpus_dir)
        if path.suffix.lower() in SUPPORTED_SUFFIXES
    }


# --------------------------------------------------------------------------- building


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_seconds: float = 600.0) -> Iterator[None]:
    """Only one build per index folder at a time; a second one waits, then gives up clearly."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    with lock_path.open("a") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusy(
                        f"Another build of {index_dir} has held its lock for {wait_seconds:.0f} s; "
                        "wait for it to finish, then try again."
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_index(settings: Settings, embedder: Embedder, progress: Progress | None = None) -> LoadedIndex:
    """Parse, chunk, embed and write the index for ``settings.corpus_dir`` atomically."""
    index_dir = settings.index_dir
    with build_lock(index_dir):
        recover_interrupted_swap(index_dir)
        _remove_dead_staging(index_dir)
        started = time.perf_counter()
        corpus = load_corpus(settings.corpus_dir)
        chunks = chunk_corpus(corpus)
        vectors = _embed(embedder, [chunk.search_text for chunk in chunks], settings.batch_size, progress)
        faiss_index = faiss.IndexFlatIP(embedder.dimension)
        faiss_index.add(vectors)
        manifest = Manifest(
            tool_version=__version__,
            model=embedder.name,
            model_dimension=embedder.dimension,
            chunker_version=CHUNKER_VERSION,
            corpus=corpus_fingerprint(settings.corpus_dir),
            files={},
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            build_seconds=0.0,
            n_documents=len(corpus.documents),
            n_chunks=len(chunks),
            problems=corpus.problems,
        )
        staging = index_dir.parent / f".{index_dir.name}.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            manifest = _write(staging, faiss_index, chunks, manifest, started)
            _carry_over_placeholders(index_dir, staging)
            _swap_in(staging, index_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return LoadedIndex(index_dir, manifest, chunks, faiss_index)


def _embed(embedder: Embedder, texts: list[str], batch_size: int, progress: Progress | None) -> np.ndarray:
    parts: list[np.ndarray] = []
    for begin in range(0, len(texts), batch_size):
        parts.append(embedder.encode(texts[begin : begin + batch_size], batch_size=batch_size))
        if progress:
            progress(min(begin + batch_size, len(texts)), len(texts))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(parts)


def _write(staging: Path, faiss_index: faiss.Index, chunks: list[Chunk], manifest: Manifest, started: float) -> Manifest:
    faiss.write_index(faiss_index, str(staging / INDEX_FILE))
    with (staging / CHUNKS_FILE).open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk.model_dump_json() + "\n")
    files = {name: sha256_file(staging / name) for name in (INDEX_FILE, CHUNKS_FILE)}
    manifest = manifest.model_copy(update={"files": files, "build_seconds": round(time.perf_counter() - started, 3)})
    (staging / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    for name in ARTIFACTS:
        with (staging / name).open("rb") as handle:
            os.fsync(handle.fileno())
    return manifest


def _carry_over_placeholders(index_dir: Path, staging: Path) -> None:
    """Keep the folder's README/.gitkeep so a rebuild does not show up as a git change."""
    if index_dir.is_dir():
        for path in index_dir.iterdir():
            if path.is_file() and path.name not in ARTIFACTS:
                shutil.copy2(path, staging / path.name)


def _backup_dir(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.old"


def _swap_in(staging: Path, index_dir: Path) -> None:
    backup = _backup_dir(index_dir)
    shutil.rmtree(backup, ignore_errors=True)
    if index_dir.exists():
        os.rename(index_dir, backup)
    os.rename(staging, index_dir)
    shutil.rmtree(backup, ignore_errors=True)


def recover_interrupted_swap(index_dir: Path) -> None:
    """A crash between the two renames leaves only the backup: put it back."""
    backup = _backup_dir(index_dir)
    if not index_dir.exists() and backup.is_dir():
        os.rename(backup, index_dir)


def _recover_before_load(index_dir: Path) -> None:
    """Recover a crashed swap, but only under the build lock.

    Between a live build's two renames the folder is briefly missing too; taking
    the lock waits for that build instead of renaming its backup back mid-swap.
    """
    if not index_dir.exists() and _backup_dir(index_dir).is_dir():
        with build_lock(index_dir):
            recover_interrupted_swap(index_dir)


def _remove_dead_staging(index_dir: Path) -> None:
    """Staging folders left by killed builds (called under the lock, so none is live)."""
    prefix = f".{index_dir.name}.tmp-"
    for leftover in index_dir.parent.iterdir():
        if leftover.name.startswith(prefix) and leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)


# --------------------------------------------------------------------------- loading


def read_manifest(index_dir: Path) -> Manifest:
    path = index_dir / MANIFEST_FILE
    if not index_dir.is_dir() or not any((index_dir / name).exists() for name in ARTIFACTS):
        raise IndexMissing(f"No index has been built in {index_dir} yet.")
    if not path.is_file():
        raise IndexCorrupt(f"{path} is missing; run `guideline-assistant index build` to rebuild the index.")
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as exc:
        raise IndexCorrupt(
            f"{path} is not a valid index manifest ({_first_line(exc)}); run `guideline-assistant index build`."
        ) from exc


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
    """Load and verify the index; raise StaleIndex/IndexMissing to rebuild, IndexCorrupt to refuse."""
    index_dir = settings.index_dir
    _recover_before_load(index_dir)
    manifest = read_manifest(index_dir)
    if check_stale and (reason := staleness(manifest, settings)):
        raise StaleIndex(f"The index in {index_dir} is out of date: {reason}.")
    for name in (INDEX_FILE, CHUNKS_FILE):
        _verify_file(index_dir / name, manifest.files.get(name))
    faiss_index = _read_faiss(index_dir / INDEX_FILE)
    chunks = _read_chunks(index_dir / CHUNKS_FILE, settings.corpus_dir)
    if faiss_index.ntotal != len(chunks) or faiss_index.d != manifest.model_dimension:
        raise IndexCorrupt(
            f"{index_dir / INDEX_FILE} holds {faiss_index.ntotal} vectors of dimension {faiss_index.d}, "
            f"but the manifest lists {len(chunks)} chunks of dimension {manifest.model_dimension}; rebuild the index."
        )
    return LoadedIndex(index_dir, manifest, chunks, faiss_index)


def _verify_file(path: Path, expected: str | None) -> None:
    if not path.is_file():
        raise IndexCorrupt(f"{path} is missing; run `guideline-assistant index build` to rebuild the index.")
    if expected is None or sha256_file(path) != expected:
        raise IndexCorrupt(
            f"{path} does not match the checksum in its manifest (truncated or modified); "
            "run `guideline-assistant index build` to rebuild the index."
        )


def _read_faiss(path: Path) -> faiss.Index:
    try:
        return faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorrupt(f"{path} cannot be read by FAISS ({_first_line(exc)}); rebuild the index.") from exc


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
            if not (root / chunk.source).resolve().is_relative_to(root):
                raise IndexCorrupt(
                    f"{path} line {number} points outside the corpus folder ({chunk.source!r}), "
                    "so it is refused; rebuild the index."
                )
            chunks.append(chunk)
    return chunks


def index_status(settings: Settings) -> IndexStatus:
    """A cheap look at the index: never loads vectors or the model."""
    try:
        manifest = read_manifest(settings.index_dir)
    except IndexMissing as exc:
        return IndexStatus(settings.index_dir, False, False, str(exc), None)
    except IndexCorrupt as exc:
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


def ensure_index(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
) -> LoadedIndex:
    """Load the index, building it when missing and rebuilding it when stale (saying so).

    A corrupt index is not rebuilt silently: :class:`IndexCorrupt` reaches the
    user, who can rebuild it on purpose with ``guideline-assistant index build``.
    """
    try:
        loaded = load_index(settings)
    except IndexMissing:
        _say(notify, f"No index yet in {settings.index_dir}; building it from {settings.corpus_dir}.")
        return build_index(settings, embedder, progress)
    except StaleIndex as exc:
        _say(notify, f"{exc} Rebuilding it.")
        return build_index(settings, embedder, progress)
    if loaded.manifest.model_dimension != embedder.dimension:
        _say(notify, f"The index has vectors of dimension {loaded.manifest.model_dimension}, the model "
                     f"gives {embedder.dimension}. Rebuilding it.")
        return build_index(settings, embedder, progress)
    return loaded


def _say(notify: Callable[[str], None] | None, message: str) -> None:
    if notify is not None:
        notify(message)
