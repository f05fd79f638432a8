"""Index faults injected on purpose: damaged files, killed builds, concurrent builds, hostile chunk records.

Each fault must be detected on load and reported in one sentence that names the
file, must never be repaired silently, and ``index build`` must repair it. The
slow tests drive the real CLI in subprocesses (SIGKILL mid-build, two builds at
once, exit codes and stderr without a traceback).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from assistant import Assistant
from assistant.errors import CorpusError, IndexCorrupt, StaleIndex
from assistant.index.build import build_index, ensure_index
from assistant.index.lock import recover_interrupted_swap
from assistant.index.store import (
    CHUNKS_FILE,
    DOCUMENTS_FILE,
    INDEX_FILE,
    MANIFEST_FILE,
    index_status,
    load_index,
    sha256_file,
)

BUNDLED_CHUNKS = 31
PROJECT_ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "assistant.cli"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, settings, embedder) -> Path:
    """One good index over the bundled corpus, built once and copied for each test."""
    local = settings.with_overrides(index_dir=tmp_path_factory.mktemp("pristine") / "index")
    build_index(local, embedder)
    return local.index_dir


@pytest.fixture
def built(tmp_path: Path, settings, pristine: Path):
    """A private copy of a good index (and of the corpus) that a test may damage."""
    shutil.copytree(settings.corpus_dir, tmp_path / "corpus")
    shutil.copytree(pristine, tmp_path / "index")
    return settings.with_overrides(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


# --------------------------------------------------------------------------- helpers


def _manifest(index_dir: Path) -> dict:
    return json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8"))


def _write_manifest(index_dir: Path, manifest: dict) -> None:
    (index_dir / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _rehash(index_dir: Path) -> None:
    """Make the manifest's checksums agree with damaged files, so the deeper checks must catch them."""
    manifest = _manifest(index_dir)
    manifest["files"] = {name: sha256_file(index_dir / name) for name in (INDEX_FILE, CHUNKS_FILE)}
    _write_manifest(index_dir, manifest)


def _chunk_lines(index_dir: Path) -> list[str]:
    return (index_dir / CHUNKS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)


def _set_chunk_source(index_dir: Path, source: str) -> None:
    lines = _chunk_lines(index_dir)
    record = json.loads(lines[3])
    record["source"] = source
    lines[3] = json.dumps(record) + "\n"
    (index_dir / CHUNKS_FILE).write_text("".join(lines), encoding="utf-8")


def assert_one_sentence_naming(message: str, path: Path) -> None:
    """One line, naming the damaged file by its full path, saying what to do, no traceback."""
    assert str(path) in message, message
    assert "\n" not in message.strip(), message
    assert "Traceback" not in message
    assert message.rstrip().endswith("."), message
    assert "rebuild" in message.lower() or "index build" in message, message


def _truncate(d: Path) -> None:
    data = (d / INDEX_FILE).read_bytes()
    (d / INDEX_FILE).write_bytes(data[: len(data) // 2])


def _garbage_line(d: Path) -> None:
    lines = _chunk_lines(d)
    lines.insert(5, "{this is not a chunk record\n")
    (d / CHUNKS_FILE).write_text("".join(lines), encoding="utf-8")


def _undecodable_line(d: Path) -> None:
    with (d / CHUNKS_FILE).open("ab") as handle:
        handle.write(b'{"id": "\xff\xfe"}\n')


def _drop_a_chunk(d: Path) -> None:
    lines = _chunk_lines(d)
    (d / CHUNKS_FILE).write_text("".join(lines[:-1]), encoding="utf-8")


def _flip_checksum(name: str) -> Callable[[Path], None]:
    def damage(d: Path) -> None:
        manifest = _manifest(d)
        manifest["files"][name] = "0" * 64
        _write_manifest(d, manifest)

    return damage


def _other_dimension(d: Path) -> None:
    manifest = _manifest(d)
    manifest["model_dimension"] = 128
    _write_manifest(d, manifest)


# (damage, rewrite the checksums afterwards?, file the message must name)
FAULTS: dict[str, tuple[Callable[[Path], None], bool, str]] = {
    "truncated-faiss": (_truncate, False, INDEX_FILE),
    "truncated-faiss-checksum-forged": (_truncate, True, INDEX_FILE),
    "garbage-chunk-line": (_garbage_line, False, CHUNKS_FILE),
    "garbage-chunk-line-checksum-forged": (_garbage_line, True, CHUNKS_FILE),
    "undecodable-chunk-line-checksum-forged": (_undecodable_line, True, CHUNKS_FILE),
    "chunk-missing-checksum-forged": (_drop_a_chunk, True, INDEX_FILE),
    "manifest-faiss-checksum-wrong": (_flip_checksum(INDEX_FILE), False, INDEX_FILE),
    "manifest-chunks-checksum-wrong": (_flip_checksum(CHUNKS_FILE), False, CHUNKS_FILE),
    "manifest-not-json": (lambda d: (d / MANIFEST_FILE).write_text("{broken", encoding="utf-8"), False, MANIFEST_FILE),
    "manifest-unknown-field": (
        lambda d: _write_manifest(d, {**_manifest(d), "surprise": 1}),
        False,
        MANIFEST_FILE,
    ),
    "manifest-empty": (lambda d: (d / MANIFEST_FILE).write_bytes(b""), False, MANIFEST_FILE),
    "missing-faiss": (lambda d: (d / INDEX_FILE).unlink(), False, INDEX_FILE),
    "missing-chunks": (lambda d: (d / CHUNKS_FILE).unlink(), False, CHUNKS_FILE),
    "missing-manifest": (lambda d: (d / MANIFEST_FILE).unlink(), False, MANIFEST_FILE),
    "manifest-names-another-dimension": (_other_dimension, False, INDEX_FILE),
    "chunk-source-escapes-corpus": (lambda d: _set_chunk_source(d, "../../etc/passwd"), True, CHUNKS_FILE),
    "chunk-source-absolute": (lambda d: _set_chunk_source(d, "/etc/passwd"), True, CHUNKS_FILE),
}


# --------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize("fault", list(FAULTS))
def test_damaged_index_is_detected_named_and_repaired_by_build(fault: str, built, embedder) -> None:
    damage, forge, file_named = FAULTS[fault]
    damage(built.index_dir)
    if forge:
        _rehash(built.index_dir)

    with pytest.raises(IndexCorrupt) as caught:
        load_index(built)
    assert_one_sentence_naming(str(caught.value), built.index_dir / file_named)

    # Never repaired silently: the API refuses too, with the same sentence.
    notes: list[str] = []
    with pytest.raises(IndexCorrupt) as again:
        ensure_index(built, embedder, notify=notes.append)
    assert str(again.value) == str(caught.value)
    assert notes == []
    with pytest.raises(IndexCorrupt):
        Assistant.load(settings=built)

    # `index status` never crashes; it checks checksums, not contents, so it sees the unforged faults.
    status = index_status(built)
    if not forge and fault != "manifest-names-another-dimension":
        assert status.up_to_date is False
        assert file_named in status.reason

    # `index build` repairs it.
    build_index(built, embedder)
    repaired = load_index(built)
    assert repaired.faiss_index.ntotal == len(repaired.chunks) == BUNDLED_CHUNKS
    assert index_status(built).up_to_date is True


def test_a_chunk_pointing_outside_the_corpus_is_never_read(built, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with forged checksums, loading reads only the index files: never the file a record names."""
    _set_chunk_source(built.index_dir, "../../etc/passwd")
    _rehash(built.index_dir)
    opened: list[str] = []
    real_open = open

    def spying_open(file, *args, **kwargs):
        opened.append(os.fspath(file) if not isinstance(file, int) else str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", spying_open)
    with pytest.raises(IndexCorrupt, match="outside the corpus folder"):
        load_index(built)
    monkeypatch.undo()
    allowed = (str(built.index_dir.resolve()), str(built.corpus_dir.resolve()), str(built.index_dir), str(built.corpus_dir))
    outside = [path for path in opened if not path.startswith(allowed) and not path.isdigit()]
    assert not [path for path in outside if "passwd" in path], outside


@pytest.mark.parametrize("source", ["../../etc/passwd", "/etc/passwd", "../corpus-sibling.txt", "sub/../../x.txt"])
def test_assistant_refuses_to_open_a_source_outside_the_corpus(assistant, source: str) -> None:
    with pytest.raises(CorpusError, match="outside the corpus folder"):
        assistant.document(source)


# --------------------------------------------------------------------------- another model, another dimension


def test_index_built_with_another_model_is_stale_and_rebuilt_saying_so(built, embedder) -> None:
    manifest = _manifest(built.index_dir)
    manifest["model"] = "some-other-model"
    _write_manifest(built.index_dir, manifest)
    with pytest.raises(StaleIndex, match="some-other-model"):
        load_index(built)
    notes: list[str] = []
    assistant = Assistant.load(settings=built, notify=notes.append)
    assert len(notes) == 1 and "some-other-model" in notes[0] and "Rebuilding" in notes[0]
    assert assistant.manifest.model == built.model
    assert load_index(built).manifest.model == built.model


def test_index_of_another_dimension_is_rebuilt_for_this_model(built, embedder) -> None:
    """A consistent index whose vectors have another width (another model under the same name)."""
    other = faiss.IndexFlatIP(128)
    vectors = np.random.default_rng(0).standard_normal((BUNDLED_CHUNKS, 128)).astype(np.float32)
    other.add(vectors)
    faiss.write_index(other, str(built.index_dir / INDEX_FILE))
    manifest = _manifest(built.index_dir)
    manifest["model_dimension"] = 128
    _write_manifest(built.index_dir, manifest)
    _rehash(built.index_dir)
    assert load_index(built).faiss_index.d == 128  # consistent on its own...
    notes: list[str] = []
    loaded = ensure_index(built, embedder, notify=notes.append)  # ...but not for this model
    assert loaded.faiss_index.d == embedder.dimension == 384
    assert len(notes) == 1 and "dimension 128" in notes[0]
    assert load_index(built).manifest.model_dimension == 384


# --------------------------------------------------------------------------- interrupted and concurrent builds


def test_crash_between_the_two_renames_is_recovered_on_load(built) -> None:
    index_dir = built.index_dir
    backup = index_dir.parent / f".{index_dir.name}.old"
    os.rename(index_dir, backup)  # the first rename happened, the process died
    (index_dir.parent / f".{index_dir.name}.tmp-424242").mkdir()
    loaded = load_index(built)
    assert loaded.faiss_index.ntotal == BUNDLED_CHUNKS
    assert index_dir.is_dir() and not backup.exists()


def test_leftover_staging_folders_are_removed_by_the_next_build(built, embedder) -> None:
    from assistant.index.owned import create_marked

    parent, name = built.index_dir.parent, built.index_dir.name
    for pid in (424242, 1):
        leftover = parent / f".{name}.tmp-{pid}"
        create_marked(leftover, role="staging")  # a killed build had written its marker first
        (leftover / INDEX_FILE).write_bytes(b"half written")
    unmarked = parent / f".{name}.tmp-77"  # not marked by a build: someone's folder, left alone
    unmarked.mkdir()
    (unmarked / INDEX_FILE).write_bytes(b"someone's file")
    assert load_index(built).faiss_index.ntotal == BUNDLED_CHUNKS  # leftovers do not disturb a load
    build_index(built, embedder)
    assert [p.name for p in parent.iterdir() if p.name.startswith(f".{name}.tmp-")] == [unmarked.name]
    assert (unmarked / INDEX_FILE).read_bytes() == b"someone's file"
    assert load_index(built).faiss_index.ntotal == BUNDLED_CHUNKS


def test_recover_does_nothing_when_the_index_is_present(built) -> None:
    backup = built.index_dir.parent / f".{built.index_dir.name}.old"
    backup.mkdir()
    recover_interrupted_swap(built.index_dir)
    assert backup.is_dir() and load_index(built).faiss_index.ntotal == BUNDLED_CHUNKS


def test_two_builds_in_threads_take_turns_under_the_lock(built, embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.index.build as index_module

    spans: list[tuple[float, float]] = []
    real_swap = index_module._swap_in

    def slow_swap(staging: Path, index_dir: Path) -> None:
        began = time.monotonic()
        time.sleep(0.3)  # widen the window in which a second build could interleave
        real_swap(staging, index_dir)
        spans.append((began, time.monotonic()))

    monkeypatch.setattr(index_module, "_swap_in", slow_swap)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            build_index(built, embedder)
        except BaseException as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert len(spans) == 3
    ordered = sorted(spans)
    assert all(first[1] <= second[0] for first, second in itertools.pairwise(ordered)), "two swaps overlapped"
    loaded = load_index(built)
    assert loaded.faiss_index.ntotal == len(loaded.chunks) == BUNDLED_CHUNKS
    assert not [p for p in built.index_dir.parent.iterdir() if ".tmp-" in p.name or p.name.endswith(".old")]


# --------------------------------------------------------------------------- real processes


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", NO_COLOR="1", PYTHONUNBUFFERED="1")
    env.pop("COLUMNS", None)  # the default 80 columns of a pipe: the error must still be one line
    return env


def _cli(*args: str, timeout: float = 300, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env=_env(), cwd=PROJECT_ROOT, input=stdin
    )


def _lock_is_held(index_dir: Path) -> bool:
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    if not lock_path.exists():
        return False
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the build finished (exit {process.returncode}) before the fault could be injected")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("timed out waiting for the build to reach the fault point")
        time.sleep(0.05)


def _big_corpus(path: Path, statements: int = 3000) -> None:
    """A synthetic guideline long enough that embedding it takes seconds."""
    lines = ["Synthetic guideline for load testing", ""]
    for number in range(statements):
        if number % 50 == 0:
            lines += ["", f"Section {number // 50 + 1} of the synthetic text", ""]
        lines.append(
            f"- Statement {number} recommends monitoring hemoglobin and reticulocyte counts "
            f"in patient group {number % 97} every {number % 7 + 1} weeks {number % 9 + 1}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_sigkill_during_a_real_build_leaves_the_previous_index_loadable(built, embedder) -> None:
    _big_corpus(built.corpus_dir / "zz-synthetic.txt")
    try:
        before = _manifest(built.index_dir)
        process = subprocess.Popen(
            [*CLI, "index", "build", "--corpus", str(built.corpus_dir), "--index", str(built.index_dir)],
            env=_env(),
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(lambda: _lock_is_held(built.index_dir), process)
        time.sleep(1.5)  # well into parsing/embedding 3,000 statements
        assert process.poll() is None, "the build finished before it could be killed; make the corpus bigger"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL

        old = built.with_overrides()
        loaded = load_index(old, check_stale=False)  # the corpus changed, but the old index is intact
        assert loaded.faiss_index.ntotal == len(loaded.chunks) == BUNDLED_CHUNKS
        assert _manifest(built.index_dir) == before
        assert not _lock_is_held(built.index_dir)  # the kernel released the dead build's lock
    finally:
        (built.corpus_dir / "zz-synthetic.txt").unlink()
    build_index(built, embedder)  # the next build is not disturbed by whatever was left behind
    assert load_index(built).faiss_index.ntotal == BUNDLED_CHUNKS
    assert not [p for p in built.index_dir.parent.iterdir() if ".tmp-" in p.name]


# A build process that stops at a chosen point of the swap, so SIGKILL lands exactly there.
_PAUSED_BUILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    import assistant.index.build as index
    import assistant.index.lock as lock
    from assistant.index.embeddings import get_embedder
    from assistant.settings import Settings

    point, marker = sys.argv[1], Path(sys.argv[2])
    real_swap = index._swap_in

    def paused_swap(staging, index_dir):
        if point == "before-swap":
            marker.write_text(str(staging))
            time.sleep(600)
        backup = lock.backup_dir(index_dir)
        os.rename(index_dir, backup)
        marker.write_text(str(staging))
        time.sleep(600)  # between the two renames
        os.rename(staging, index_dir)

    index._swap_in = paused_swap
    settings = Settings(corpus_dir=Path(sys.argv[3]), index_dir=Path(sys.argv[4]))
    index.build_index(settings, get_embedder(settings.model))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before-swap", "between-renames"])
def test_sigkill_at_the_swap_leaves_the_previous_index_loadable(point: str, built, embedder, tmp_path: Path) -> None:
    marker = tmp_path / "reached"
    before = _manifest(built.index_dir)
    (built.corpus_dir / "zz-extra.md").write_text("# Extra\n\nA new statement about splenectomy [9].\n")
    try:
        process = subprocess.Popen(
            [sys.executable, "-c", _PAUSED_BUILD, point, str(marker), str(built.corpus_dir), str(built.index_dir)],
            env=_env(),
            cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _wait_for(marker.exists, process)
        staging = Path(marker.read_text())
        assert staging.is_dir() and (staging / MANIFEST_FILE).is_file()  # the new index was fully written
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if point == "between-renames":
            assert not built.index_dir.exists()  # the worst moment: only the backup is left

        loaded = load_index(built, check_stale=False)
        assert loaded.faiss_index.ntotal == len(loaded.chunks) == BUNDLED_CHUNKS
        assert _manifest(built.index_dir) == before
        with pytest.raises(StaleIndex):  # the old index is recognised as old, not mixed with the new one
            load_index(built)
    finally:
        (built.corpus_dir / "zz-extra.md").unlink()
    build_index(built, embedder)
    assert load_index(built).faiss_index.ntotal == BUNDLED_CHUNKS
    assert not [p for p in built.index_dir.parent.iterdir() if ".tmp-" in p.name or p.name.endswith(".old")]


@pytest.mark.slow
def test_two_real_build_processes_at_once_end_with_one_consistent_index(built) -> None:
    (built.corpus_dir / "zz-extra.md").write_text("# Extra\n\nA new statement about splenectomy [9].\n")
    try:
        command = [*CLI, "index", "build", "--corpus", str(built.corpus_dir), "--index", str(built.index_dir)]
        processes = [
            subprocess.Popen(command, env=_env(), cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        results = [process.communicate(timeout=300) for process in processes]
        assert [process.returncode for process in processes] == [0, 0], results
        assert all("Traceback" not in stderr for _, stderr in results)
        loaded = load_index(built)  # not stale, checksums match, vectors and chunks agree
        assert loaded.manifest.n_documents == 2
        assert loaded.faiss_index.ntotal == len(loaded.chunks) == BUNDLED_CHUNKS + 1
        manifest = _manifest(built.index_dir)
        listed = (INDEX_FILE, CHUNKS_FILE, DOCUMENTS_FILE)
        assert manifest["files"] == {name: sha256_file(built.index_dir / name) for name in listed}
        assert not [p for p in built.index_dir.parent.iterdir() if ".tmp-" in p.name or p.name.endswith(".old")]
    finally:
        (built.corpus_dir / "zz-extra.md").unlink()


@pytest.mark.slow
def test_cli_reports_a_corrupt_index_in_one_sentence_and_index_build_repairs_it(built) -> None:
    _truncate(built.index_dir)
    where = ["--corpus", str(built.corpus_dir), "--index", str(built.index_dir)]

    asked = _cli("ask", "What dose of IVIG is used in warm AIHA?", *where)
    assert asked.returncode == 1
    assert "Traceback" not in asked.stderr and asked.stdout == ""
    message = asked.stderr.strip()
    assert message.startswith("Error:") and "\n" not in message, asked.stderr
    assert_one_sentence_naming(message, built.index_dir / INDEX_FILE)

    status = _cli("index", "status", "--check", "--json", *where)
    assert status.returncode == 1 and "Traceback" not in status.stderr
    assert json.loads(status.stdout)["up_to_date"] is False

    rebuilt = _cli("index", "build", *where)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"Built {BUNDLED_CHUNKS} chunks" in rebuilt.stderr

    answered = _cli("ask", "What dose of IVIG is used in warm AIHA?", "--json", *where)
    assert answered.returncode == 0, answered.stderr
    answer = json.loads(answered.stdout)
    assert answer["abstained"] is False and answer["quotes"]
