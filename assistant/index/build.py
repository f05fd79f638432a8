"""Building the index: parse what changed, embed it, write everything atomically.

Builds are incremental: a file whose sha256 matches the previous index keeps its
statements and vectors (read back from FAISS), so changing one guideline of a
library re-parses and re-embeds only that one, and a removed file disappears.
Everything is written to a staging folder beside the index and swapped in with
two renames, under a lock file, so an interrupted or concurrent build never
leaves a mix of old and new files. The index folder is only ever replaced when
it is one this project made (its marker file, or an empty/placeholder folder):
a folder holding anything else is refused, never moved or deleted. Ownership is
the marker alone (:mod:`assistant.index.owned`), never the names of the files in
a folder; the staging folder is marked first, with a random id the manifest repeats,
and only staging/backup siblings carrying such an id are ever deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np

from assistant import __version__
from assistant.errors import CorpusError, IndexCorrupt, IndexFolderError, StaleIndex
from assistant.index.audit import AUDIT_FILE
from assistant.index.calibration import CALIBRATION_FILE
from assistant.index.embedding_cache import EmbeddingCache
from assistant.index.embeddings import Embedder, build_threads_now
from assistant.index.feedback import FEEDBACK_FILE
from assistant.index.lock import backup_dir, build_lock, recover_interrupted_swap
from assistant.index.owned import MARKER_FILE, create_marked, read_marker, remove_marked, write_marker
from assistant.index.ranker_file import RANKER_FILE
from assistant.index.store import (
    ARTIFACTS,
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    INDEX_FILE,
    MANIFEST_FILE,
    TEXTS_DIR,
    LoadedIndex,
    Manifest,
    Progress,
    corpus_fingerprint,
    load_index,
    sha256_file,
    text_path,
)
from assistant.index.vectors import build_vector_index
from assistant.index.verify import remember_parsed, source_text
from assistant.ingest.chunking import CHUNKER_VERSION, Chunk, chunk_corpus
from assistant.ingest.files import Corpus, FileProgress, load_corpus
from assistant.ingest.metadata import DocumentMeta
from assistant.settings import Settings

PLACEHOLDERS = frozenset({"README.md", ".gitkeep", MARKER_FILE})
# What an unmarked folder may hold (as regular files) and still be built into: a folder kept in git for the index.
EMPTY_FOLDER_FILES = frozenset({"README.md", ".gitkeep"})
# What a user made for this library and stored with its index survives a rebuild.
CARRIED_OVER = PLACEHOLDERS | {CALIBRATION_FILE, RANKER_FILE, FEEDBACK_FILE}


def _holds_cwd_or_corpus(index_dir: Path, corpus_dir: Path | None) -> bool:
    """Whether replacing ``index_dir`` would move the working folder or the guidelines themselves."""
    target = index_dir.resolve()
    protected = [Path.cwd().resolve()] + ([corpus_dir.resolve()] if corpus_dir is not None else [])
    return any(place == target or target in place.parents for place in protected)


def check_index_folder(index_dir: Path, corpus_dir: Path | None = None) -> None:
    """Refuse to build into a folder (or over a file) this project did not make: nothing there is ours to replace."""
    if index_dir.is_symlink():
        raise IndexFolderError(f"{index_dir} is a symbolic link; point the index at a real folder instead.")
    if index_dir.name in ("", ".", "..") or _holds_cwd_or_corpus(index_dir, corpus_dir):
        raise IndexFolderError(
            f"{index_dir} is the current folder, the corpus folder or a folder around it; "
            "choose a separate, new folder for the index (e.g. --index index)."
        )
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexFolderError(f"{index_dir} is a file, not an index folder; choose another --index folder.")
    if not index_dir.is_dir():
        return
    if read_marker(index_dir) is not None:
        return
    try:
        entries = list(index_dir.iterdir())
    except OSError as exc:
        raise IndexFolderError(f"{index_dir} cannot be read ({exc.strerror}); choose another --index folder.") from None
    foreign = sorted(path.name for path in entries if not _placeholder_file(path))
    if foreign:
        raise IndexFolderError(
            f"{index_dir} already holds other files ({', '.join(foreign[:3])}{' …' if len(foreign) > 3 else ''}) "
            "and was not made by guideline-assistant (it has no index marker); nothing in it was touched. "
            "Point --index (or GUIDELINE_ASSISTANT_INDEX_DIR) at a new, empty folder."
        )


def _placeholder_file(path: Path) -> bool:
    """A README.md/.gitkeep that is a regular file (a *folder* named README.md is someone's data)."""
    return path.name in EMPTY_FOLDER_FILES and path.is_file() and not path.is_symlink()


def build_index(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
    file_progress: FileProgress | None = None,
    incremental: bool = True,
    if_stale: bool = False,
) -> LoadedIndex:
    """Parse, chunk, embed and write the index for ``settings.corpus_dir`` atomically.

    ``if_stale`` is for builds nobody asked for by name (a question found the index
    missing or stale): when another process finished the same build while this one
    waited for the lock, its index is used instead of building it a second time.
    """
    index_dir = settings.index_dir
    check_index_folder(index_dir, settings.corpus_dir)
    with build_lock(index_dir):
        recover_interrupted_swap(index_dir)
        if if_stale and (current := _up_to_date(settings, embedder)) is not None:
            return current
        _remove_dead_staging(index_dir)
        started = time.perf_counter()
        previous = _previous(settings, embedder) if incremental else None
        fingerprint = corpus_fingerprint(settings.corpus_dir)
        reusable = {meta.source for meta in previous.documents} if previous else set()
        unchanged = frozenset(
            source
            for source, digest in fingerprint.items()
            if previous and source in reusable and previous.manifest.corpus.get(source) == digest
        )
        known = _known_texts(settings.corpus_dir, unchanged, fingerprint)
        corpus = load_corpus(settings.corpus_dir, skip=unchanged, progress=file_progress, known=known)
        for parsed in corpus.files:  # this build's own parse vouches for its quotes in this process
            remember_parsed(settings.corpus_dir / parsed.document.source, fingerprint.get(parsed.document.source, ""), parsed)
        new_chunks = chunk_corpus(corpus)
        cache = EmbeddingCache.load(index_dir, embedder.name, embedder.dimension)
        new_vectors = _embed(embedder, [chunk.search_text for chunk in new_chunks], settings.batch_size, progress, cache)
        chunks, vectors, documents, problems, notes = _merge(previous, unchanged, corpus, new_chunks, new_vectors)
        notes += [cache.note] if cache.note else []
        if not chunks:
            raise CorpusError(f"No usable guideline in {settings.corpus_dir}: " + " ".join(problems))
        faiss_index, vector_kind = build_vector_index(vectors, embedder.dimension, settings.ann_threshold)
        manifest = Manifest(
            tool_version=__version__,
            model=embedder.name,
            model_dimension=embedder.dimension,
            chunker_version=CHUNKER_VERSION,
            corpus=fingerprint,
            files={},
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            build_seconds=0.0,
            n_documents=len(documents),
            n_chunks=len(chunks),
            problems=problems,
            notes=notes,
            reused_documents=len(unchanged),
            vector_index=vector_kind,
            offsets={meta.source: meta.offsets for meta in documents},
        )
        staging = index_dir.parent / f".{index_dir.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        staging_id: str | None = None
        try:
            index_dir.parent.mkdir(parents=True, exist_ok=True)
            staging_id = create_marked(staging, role="staging")  # the marker is the first thing written
            manifest = manifest.model_copy(update={"owner_id": staging_id})
            texts = {parsed.document.source: parsed.source_text.text for parsed in corpus.files}
            _write_texts(staging, settings.corpus_dir, documents, texts, fingerprint)
            cache.save(staging, [chunk.search_text for chunk in chunks], vectors)
            manifest = _write(staging, faiss_index, chunks, documents, manifest, started)
            _carry_over_placeholders(index_dir, staging)
            write_marker(staging, staging_id, role="index")
            _swap_in(staging, index_dir)
        except OSError as exc:  # a read-only or full disk: the old index is untouched, say so in one line
            raise IndexFolderError(
                f"Cannot write the index beside {index_dir} ({exc.strerror or type(exc).__name__}); "
                "the previous index was left as it was. Choose a folder you can write to, or free disk space."
            ) from None
        finally:
            if staging_id is not None:
                remove_marked(staging, staging_id)  # only the folder this build made and marked
        return LoadedIndex(index_dir, manifest, chunks, faiss_index, documents, settings.corpus_dir)


def _known_texts(corpus_dir: Path, unchanged: frozenset[str], fingerprint: dict[str, str]) -> dict[str, str]:
    """The text sha256 of every kept file, so a new copy of one (same bytes or same text) is refused by name."""
    known: dict[str, str] = {}
    for source in sorted(unchanged):
        try:
            text = source_text(corpus_dir / source, fingerprint[source]).text
        except Exception:  # unreadable now: the load that follows reports it
            continue
        known.setdefault(hashlib.sha256(text.encode("utf-8")).hexdigest(), source)
    return known


def _up_to_date(settings: Settings, embedder: Embedder) -> LoadedIndex | None:
    """The index as it is, when it already matches the corpus and this model (built while we waited)."""
    try:
        loaded = load_index(settings)
    except (StaleIndex, IndexCorrupt, CorpusError, OSError):
        return None
    return loaded if loaded.manifest.model_dimension == embedder.dimension else None


def _previous(settings: Settings, embedder: Embedder) -> LoadedIndex | None:
    """The index being replaced, when its statements and vectors can be reused (same model and chunker)."""
    try:
        loaded = load_index(settings, check_stale=False)
    except (StaleIndex, IndexCorrupt, CorpusError, OSError):
        return None
    manifest = loaded.manifest
    same = (
        manifest.model == embedder.name
        and manifest.model_dimension == embedder.dimension
        and manifest.chunker_version == CHUNKER_VERSION
        and loaded.faiss_index.ntotal == len(loaded.chunks)
    )
    return loaded if same and loaded.documents else None


def _merge(
    previous: LoadedIndex | None,
    unchanged: frozenset[str],
    corpus: Corpus,
    new_chunks: list[Chunk],
    new_vectors: np.ndarray,
) -> tuple[list[Chunk], np.ndarray, list[DocumentMeta], list[str], list[str]]:
    """Reused and new statements in one deterministic order (by source, then position)."""
    rows: list[tuple[Chunk, np.ndarray]] = list(zip(new_chunks, new_vectors, strict=True))
    documents = [parsed.meta for parsed in corpus.files]
    problems = list(corpus.problems)
    notes = list(corpus.notes)
    if previous is not None and unchanged:
        keep = [i for i, chunk in enumerate(previous.chunks) if chunk.source in unchanged]
        if keep:
            old = previous.faiss_index.reconstruct_n(0, previous.faiss_index.ntotal)
            rows += [(previous.chunks[i], old[i]) for i in keep]
        documents += [meta for meta in previous.documents if meta.source in unchanged]
        problems += [p for p in previous.manifest.problems if p.split(":", 1)[0] in unchanged]
        notes += [n for n in previous.manifest.notes if n.split(":", 1)[0] in unchanged]
    rows.sort(key=lambda row: (row[0].source, row[0].start, row[0].end))
    documents.sort(key=lambda meta: meta.source)
    dimension = new_vectors.shape[1] if new_vectors.ndim == 2 else 0
    vectors = np.vstack([row[1] for row in rows]).astype(np.float32) if rows else np.zeros((0, dimension), np.float32)
    return [row[0] for row in rows], vectors, documents, problems, notes


def _embed(
    embedder: Embedder,
    texts: list[str],
    batch_size: int,
    progress: Progress | None,
    cache: EmbeddingCache | None = None,
) -> np.ndarray:
    """Vectors for the new statements: cached ones reused, the rest encoded once each, longest first.

    ``progress`` counts the statements actually encoded, from 0 to their total, so
    its rate and time left are the encoder's; a rebuild whose text is all cached
    reports ``(0, 0)`` and finishes at once.
    """

    def encode(missing: list[str]) -> np.ndarray:
        threads = build_threads_now() if len(missing) > 1 else None  # sampled only when there is work (0.3 s)
        return embedder.encode_sorted(missing, batch_size=batch_size, threads=threads, progress=progress)

    if cache is None:
        return encode(texts)
    vectors, encoded = cache.vectors_for(texts, encode)
    if not encoded and progress:
        progress(0, 0)
    return vectors


def _write_texts(
    staging: Path, corpus_dir: Path, documents: list[DocumentMeta], fresh: dict[str, str], digests: dict[str, str]
) -> None:
    """The canonical text of every document whose offsets index it (re-derived from the file, never copied)."""
    for meta in documents:
        if meta.offsets != "canonical":
            continue
        target = text_path(staging, meta.source)
        target.parent.mkdir(parents=True, exist_ok=True)
        text = fresh[meta.source] if meta.source in fresh else source_text(corpus_dir / meta.source, digests[meta.source]).text
        target.write_text(text, encoding="utf-8", newline="")


def _write(
    staging: Path,
    faiss_index: faiss.Index,
    chunks: list[Chunk],
    documents: list[DocumentMeta],
    manifest: Manifest,
    started: float,
) -> Manifest:
    faiss.write_index(faiss_index, str(staging / INDEX_FILE))
    with (staging / CHUNKS_FILE).open("w", encoding="utf-8") as handle:
        for chunk in chunks:
            handle.write(chunk.model_dump_json() + "\n")
    (staging / DOCUMENTS_FILE).write_text(
        "[\n" + ",\n".join(meta.model_dump_json() for meta in documents) + "\n]\n", encoding="utf-8"
    )
    files = {name: sha256_file(staging / name) for name in (INDEX_FILE, CHUNKS_FILE, DOCUMENTS_FILE)}
    texts_root = staging / TEXTS_DIR
    if texts_root.is_dir():
        files |= {p.relative_to(staging).as_posix(): sha256_file(p) for p in sorted(texts_root.rglob("*.txt"))}
    manifest = manifest.model_copy(update={"files": files, "build_seconds": round(time.perf_counter() - started, 3)})
    (staging / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")
    for name in ARTIFACTS:
        with (staging / name).open("rb") as handle:
            os.fsync(handle.fileno())
    return manifest


def _carry_over_placeholders(index_dir: Path, staging: Path) -> None:
    """Keep the folder's README/.gitkeep (a rebuild is no git change) and the library's calibration and ranker."""
    if index_dir.is_dir():
        for path in index_dir.iterdir():
            if path.is_file() and not path.is_symlink() and path.name in CARRIED_OVER and not (staging / path.name).exists():
                shutil.copy2(path, staging / path.name)
        _link_audit_log(index_dir, staging)


def _link_audit_log(index_dir: Path, staging: Path) -> None:
    """The append-only audit log moves with the index as the same file (a hard link), so a line
    appended while the new index is swapped in is not lost; a copy where links are not possible."""
    log = index_dir / AUDIT_FILE
    if log.is_file() and not log.is_symlink() and not (staging / AUDIT_FILE).exists():
        try:
            os.link(log, staging / AUDIT_FILE)
        except OSError:
            shutil.copy2(log, staging / AUDIT_FILE)


def _swap_in(staging: Path, index_dir: Path) -> None:
    """Two renames: the old index aside, the new one in; only a folder we marked is ever deleted."""
    backup = backup_dir(index_dir)
    if backup.exists() or backup.is_symlink():
        if not remove_marked(backup):
            raise IndexFolderError(
                f"{backup} is in the way of the build and is not a backup guideline-assistant marked; "
                "nothing was touched. Move it elsewhere, then build again."
            )
    replaced = index_dir.exists()
    marked = read_marker(index_dir) is not None if replaced else False
    if replaced:
        os.rename(index_dir, backup)
    os.rename(staging, index_dir)
    if replaced:
        _discard_backup(backup, marked)


def _discard_backup(backup: Path, marked: bool) -> None:
    """The replaced index (checked as ours, under the lock) or the placeholder folder it was, and nothing else.

    An index from before marker ids (legacy marker) is ours too: this is its upgrade.
    A placeholder folder only loses its README.md/.gitkeep (already copied across).
    """
    if marked and read_marker(backup) is not None:
        shutil.rmtree(backup, ignore_errors=True)
        return
    for path in backup.iterdir():
        if _placeholder_file(path):
            path.unlink()
    with contextlib.suppress(OSError):
        backup.rmdir()  # anything else that appeared meanwhile stays where it is


def _remove_dead_staging(index_dir: Path) -> None:
    """Staging folders left by killed builds (called under the lock, so none is live); only ones we marked."""
    prefix = f".{index_dir.name}.tmp-"
    for leftover in index_dir.parent.iterdir():
        if leftover.name.startswith(prefix):
            remove_marked(leftover)


def ensure_index(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
    file_progress: FileProgress | None = None,
) -> LoadedIndex:
    """Load the index, building it when missing and rebuilding it when stale (saying so).

    A corrupt index is not rebuilt silently: :class:`IndexCorrupt` reaches the
    user, who can rebuild it on purpose with ``guideline-assistant index build``.
    """
    from assistant.index.store import IndexMissing

    try:
        loaded = load_index(settings)
    except IndexMissing:
        _say(notify, f"No index yet in {settings.index_dir}; building it from {settings.corpus_dir}.")
        return _build_saying_what_was_skipped(settings, embedder, progress, notify, file_progress)
    except StaleIndex as exc:
        _say(notify, f"{exc} Rebuilding it.")
        return _build_saying_what_was_skipped(settings, embedder, progress, notify, file_progress)
    if loaded.manifest.model_dimension != embedder.dimension:
        _say(
            notify,
            f"The index has vectors of dimension {loaded.manifest.model_dimension}, the model "
            f"gives {embedder.dimension}. Rebuilding it.",
        )
        return build_index(settings, embedder, progress)
    return loaded


def _build_saying_what_was_skipped(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None,
    notify: Callable[[str], None] | None,
    file_progress: FileProgress | None = None,
) -> LoadedIndex:
    """A build on the way to an answer: each file it could not use is said in one line (never silently dropped)."""
    loaded = build_index(settings, embedder, progress, file_progress, if_stale=True)
    for problem in loaded.manifest.problems:
        _say(notify, f"Skipped: {problem}")
    return loaded


def _say(notify: Callable[[str], None] | None, message: str) -> None:
    if notify is not None:
        notify(message)
