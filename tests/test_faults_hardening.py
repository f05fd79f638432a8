"""Red-team hardening (issue 15, items 4, 5, 7, 8): every failure is one message, nothing is touched.

One table per fault category. Each case reproduces an attack from the red-team
pass that gave a traceback, a hang, a silent skip, a huge allocation or a
misleading display on the code before this suite, and checks the clear outcome now.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import resource
import shutil
import stat
import struct
import subprocess
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.cli import EXIT_FAILURE, EXIT_INPUT, app
from assistant.errors import IndexCorrupt, IndexFolderError, InputError
from assistant.index import faiss_io
from assistant.index.build import _swap_in, build_index, ensure_index
from assistant.index.lock import build_lock
from assistant.index.store import CHUNKS_FILE, INDEX_FILE, MANIFEST_FILE, corpus_fingerprint, load_index, sha256_file
from assistant.ingest.files import load_corpus
from assistant.ingest.parser import parse_document
from assistant.retrieval.query import clean_question

runner = CliRunner()
ROOT = os.geteuid() == 0
GOOD = (
    "# Warm AIHA\n\n## Treatment\n\n"
    "Corticosteroids are the first-line treatment of warm autoimmune haemolytic anaemia [1].\n\n"
    "IVIG 1 g/kg daily for 2 days may be used when haemolysis is severe [2].\n"
)
SECOND = "# Splenectomy\n\nSplenectomy is considered after failure of second-line therapy [3].\n"


# --------------------------------------------------------------------------- helpers


def _run_with_timeout(call: Callable[[], object], seconds: float = 20.0) -> object:
    """Run ``call`` in a thread; a hang (a FIFO opened for reading) fails the test instead of blocking it."""
    box: dict[str, object] = {}
    thread = threading.Thread(target=lambda: box.setdefault("value", call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hung (a pipe or device was opened for reading)"
    return box.get("value")


def _clean_up(folder: Path) -> None:
    """Undo what would trouble pytest's own clean-up: readers stuck on a FIFO, mode 000, a 1,500-deep tree."""
    for path in folder.iterdir():
        if path.is_fifo():  # a reader stuck on it (a failing test) gets its end of file
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        elif path.is_file() and not path.is_symlink():
            path.chmod(0o644)
        elif path.is_dir() and not path.is_symlink():
            chain = [path]
            while (chain[-1] / "d").is_dir():
                chain.append(chain[-1] / "d")
            for level in reversed(chain):  # bottom up: shutil.rmtree recurses once per level
                for leaf in level.iterdir():
                    if not leaf.is_dir():
                        leaf.unlink()
                level.rmdir()


def _unreadable(path: Path) -> None:
    path.write_text(GOOD.replace("IVIG", "Rituximab"), encoding="utf-8")
    path.chmod(0)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _device(path: Path) -> None:
    os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 3))  # /dev/null's numbers


def _loop(path: Path) -> None:
    partner = path.with_name("partner-" + path.name)
    path.symlink_to(partner.name)
    partner.symlink_to(path.name)


def _dangling(path: Path) -> None:
    path.symlink_to("nowhere.txt")


def _deep(path: Path) -> None:
    here = path
    here.mkdir()
    for _ in range(1500):  # one mkdir at a time: os.makedirs itself recurses once per level
        here = here / "d"
        here.mkdir()
    (here / "g.txt").write_text(SECOND, encoding="utf-8")


# name -> (make the bad entry at corpus/<name>, words the skip message must contain, needs root?/skip reason)
BAD_ENTRIES: dict[str, tuple[Callable[[Path], None], str, str | None]] = {
    "unreadable.txt": (_unreadable, "cannot be read", "root reads any file whatever its mode" if ROOT else None),
    "pipe.txt": (_fifo, "not a regular file", None),
    "device.txt": (_device, "not a regular file", None if ROOT else "creating a device needs root"),
    "loop.txt": (_loop, "symbolic link loop", None),
    "dangling.txt": (_dangling, "broken link", None),
    "deep": (_deep, "nested deeper than", None),
}


@pytest.fixture
def bad_corpus(make_corpus, request: pytest.FixtureRequest) -> Iterator[tuple[object, str, str]]:
    name = request.param
    make, words, skip_reason = BAD_ENTRIES[name]
    if skip_reason:
        pytest.skip(skip_reason)
    settings = make_corpus({"a-guideline.md": GOOD})
    make(settings.corpus_dir / name)
    yield settings, name, words
    _clean_up(settings.corpus_dir)


# --------------------------------------------------------------------------- 4. corpus entries


@pytest.mark.parametrize("bad_corpus", list(BAD_ENTRIES), indirect=True)
def test_odd_corpus_entry_is_skipped_with_a_message_and_never_opened_for_hashing(bad_corpus) -> None:
    settings, name, words = bad_corpus
    corpus = _run_with_timeout(lambda: load_corpus(settings.corpus_dir))
    fingerprint = _run_with_timeout(lambda: corpus_fingerprint(settings.corpus_dir))
    assert [doc.source for doc in corpus.documents] == ["a-guideline.md"]
    assert any(name in problem and words in problem for problem in corpus.problems), corpus.problems
    assert all("\n" not in problem for problem in corpus.problems)
    assert set(fingerprint) == {"a-guideline.md"}


@pytest.mark.parametrize("bad_corpus", list(BAD_ENTRIES), indirect=True)
def test_ask_and_index_build_say_which_entry_was_skipped(bad_corpus) -> None:
    settings, name, words = bad_corpus
    dirs = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    asked = _run_with_timeout(lambda: runner.invoke(app, ["ask", "--json", "What is the first-line treatment?", *dirs]), 240)
    assert asked.exception is None or isinstance(asked.exception, SystemExit), asked.exception
    assert asked.exit_code == 0, asked.stderr
    assert any(line.startswith("Skipped:") and name in line and words in line for line in asked.stderr.splitlines()), asked.stderr
    built = _run_with_timeout(lambda: runner.invoke(app, ["index", "build", "--full", *dirs]), 240)
    assert built.exit_code == 0 and "Traceback" not in built.output, built.stderr
    assert any(line.startswith("Skipped:") and name in line for line in built.stderr.splitlines()), built.stderr


# --------------------------------------------------------------------------- 4. index folders


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may write in: ``chattr +i`` (which binds root too) or, for other users, mode 555."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if ROOT:
        if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("running as root and this file system has no immutable attribute")
    else:
        folder.chmod(0o555)
    yield folder
    if ROOT:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    folder.chmod(0o755)


def _index_in_read_only_parent(tmp: Path, read_only: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return read_only / "index"


def _symlinked_index(tmp: Path, read_only: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    real = tmp / "real-index"
    real.mkdir()
    (tmp / "linked-index").symlink_to(real, target_is_directory=True)
    return tmp / "linked-index"


def _current_folder(tmp: Path, read_only: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    empty = tmp / "empty-here"
    empty.mkdir()
    monkeypatch.chdir(empty)  # an empty working folder: nothing in it tells the build to stop
    return Path(".")


def _parent_is_a_file(tmp: Path, read_only: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp / "notes.txt").write_text("mine\n")
    return tmp / "notes.txt" / "index"


def _around_the_corpus(tmp: Path, read_only: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return tmp


INDEX_FOLDERS: dict[str, tuple[Callable[[Path, Path, pytest.MonkeyPatch], Path], str]] = {
    "read-only-parent": (_index_in_read_only_parent, "Cannot write"),
    "symlinked-folder": (_symlinked_index, "symbolic link"),
    "current-folder": (_current_folder, "current folder"),
    "parent-is-a-file": (_parent_is_a_file, "Cannot write"),
    "folder-around-the-corpus": (_around_the_corpus, "corpus folder"),
}


def _snapshot(root: Path) -> list[tuple[str, int]]:
    return sorted((p.relative_to(root).as_posix(), p.lstat().st_mtime_ns) for p in root.rglob("*"))


@pytest.mark.parametrize("case", list(INDEX_FOLDERS))
def test_unusable_index_folder_is_one_message_and_nothing_is_touched(
    case: str, make_corpus, embedder, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, words = INDEX_FOLDERS[case]
    settings = make_corpus({"a-guideline.md": GOOD})
    read_only = request.getfixturevalue("read_only") if case == "read-only-parent" else tmp_path
    index_dir = make(tmp_path, read_only, monkeypatch)
    before = _snapshot(tmp_path)
    with pytest.raises(IndexFolderError, match=words) as caught:
        build_index(settings.with_overrides(index_dir=index_dir), embedder)
    assert "\n" not in str(caught.value)
    assert _snapshot(tmp_path) == before
    result = runner.invoke(app, ["index", "build", "--corpus", str(settings.corpus_dir), "--index", str(index_dir)])
    assert result.exit_code == EXIT_FAILURE and isinstance(result.exception, SystemExit), result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and words in lines[0], result.stderr
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize(("value", "command"), list(itertools.product(["0", "abc"], ["build", "status"])))
def test_bad_k_in_the_environment_is_one_message_for_every_index_command(value: str, command: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["index", command, "--index", str(tmp_path / "index")], env={"GUIDELINE_ASSISTANT_K": value}
    )
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == EXIT_INPUT
    assert "GUIDELINE_ASSISTANT_K" in result.stderr and len(result.stderr.strip().splitlines()) == 1


# --------------------------------------------------------------------------- 4-5. tampered index files


@pytest.fixture
def built(make_corpus, embedder):
    settings = make_corpus({"a-guideline.md": GOOD})
    build_index(settings, embedder)
    return settings


def _recompute_checksum(index_dir: Path, name: str) -> None:
    """What an attacker does after editing a file: make the manifest agree with it."""
    manifest = json.loads((index_dir / MANIFEST_FILE).read_text())
    manifest["files"][name] = sha256_file(index_dir / name)
    (index_dir / MANIFEST_FILE).write_text(json.dumps(manifest))


def _nul_in_source(index_dir: Path, dimension: int) -> None:
    path = index_dir / CHUNKS_FILE
    lines = path.read_text().splitlines()
    record = json.loads(lines[0])
    record["source"] = "a-guideline.md\x00.txt"
    path.write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    _recompute_checksum(index_dir, CHUNKS_FILE)


def _faiss_claiming(values: int, ntotal: int | None = None, fourcc: bytes | None = None) -> Callable[[Path, int], None]:
    """A 47 KB index.faiss whose header claims ``values`` floats (4 GiB = 2**30 floats)."""

    def tamper(index_dir: Path, dimension: int) -> None:
        path = index_dir / INDEX_FILE
        real = path.read_bytes()
        count = ntotal if ntotal is not None else values // dimension
        claimed = values if ntotal is not None else count * dimension  # agrees with the header: only the size lies
        header = (fourcc or real[:4]) + struct.pack("<iq", dimension, count) + real[16:37]
        path.write_bytes(header + struct.pack("<Q", claimed) + bytes(47_000))
        _recompute_checksum(index_dir, INDEX_FILE)

    return tamper


# name -> (tamper with the built index, words the IndexCorrupt message must contain)
TAMPERED: dict[str, tuple[Callable[[Path, int], None], str]] = {
    "nul-in-chunk-source": (_nul_in_source, CHUNKS_FILE),
    "faiss-claims-4-GiB": (_faiss_claiming(1 << 30), "header describes"),
    "faiss-claims-2^40-values": (_faiss_claiming(1 << 40), "header describes"),
    "faiss-count-disagrees-with-header": (_faiss_claiming(1 << 30, ntotal=3), "values for 3 vectors"),
    "faiss-negative-dimension": (_faiss_claiming(1 << 30, ntotal=-5), "-5 vectors"),
    "faiss-unknown-type-claiming-too-many": (_faiss_claiming(1 << 30, ntotal=1 << 40, fourcc=b"IxZZ"), "more than"),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_tampered_index_is_refused_as_corrupt_naming_the_file_before_any_allocation(case: str, built, embedder) -> None:
    tamper, words = TAMPERED[case]
    tamper(built.index_dir, embedder.dimension)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(IndexCorrupt, match=words) as caught:
        load_index(built)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert str(built.index_dir) in str(caught.value) and "\n" not in str(caught.value)
    assert grown_mib < 512, f"peak memory grew by {grown_mib:.0f} MiB while refusing the file"
    build_index(built, embedder)  # the usual way out still works
    assert load_index(built).faiss_index.ntotal == 2


def test_unknown_index_types_with_plausible_headers_still_reach_faiss(tmp_path: Path) -> None:
    """An HNSW graph (another engineer may write these) has no exact size rule and must still load."""
    vectors = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    graph = faiss.IndexHNSWFlat(8, 16, faiss.METRIC_INNER_PRODUCT)
    graph.add(vectors)
    path = tmp_path / INDEX_FILE
    faiss.write_index(graph, str(path))
    assert faiss_io.read_index(path).ntotal == 50
    path.write_bytes(path.read_bytes()[:-100])  # plausible header, damaged body: FAISS's own error, as corrupt
    with pytest.raises(IndexCorrupt, match=str(path)):
        faiss_io.read_index(path)


# --------------------------------------------------------------------------- 7. display


ESCAPES = "IVIG \x1b[31m1 g/kg\x1b[0m\x08\x08\x08\x0810 g/kg \u202eetad\u202c is the dose in warm haemolysis [2].\r\n"


def test_terminal_output_shows_control_characters_as_visible_escapes(make_corpus) -> None:
    settings = make_corpus({"a-guideline.md": GOOD + "\n" + ESCAPES})
    dirs = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    result = runner.invoke(app, ["ask", "What IVIG dose is used in warm haemolysis?", *dirs])
    assert result.exit_code == 0, result.stderr
    shown = result.stdout
    for hidden in ("\x1b", "\x08", "\u202e", "\r"):
        assert hidden not in shown, repr(hidden)
    assert "\\x1b[31m1 g/kg" in shown and "\\u202e" in shown
    as_json = runner.invoke(app, ["ask", "--json", "What IVIG dose is used in warm haemolysis?", *dirs])
    assert any("\x1b[31m" in quote["text"] for quote in json.loads(as_json.stdout)["quotes"])  # the data stays verbatim


@pytest.mark.parametrize("heading", ["# Warm AIHA", "Warm AIHA guideline"])
def test_bom_and_crlf_file_keeps_its_title_out_of_the_quotes(heading: str) -> None:
    plain = f"{heading}\n\nCorticosteroids are the first-line treatment [1].\nIVIG 1 g/kg is used [2].\n"
    raw = "\ufeff" + plain.replace("\n", "\r\n")
    document, reference = parse_document(raw, "g.txt"), parse_document(plain, "g.txt")
    assert document.title == reference.title == heading.lstrip("# ")
    assert [s.text for s in document.statements] == [s.text for s in reference.statements]
    assert all(raw[s.start : s.end] == s.text and "\r" not in s.text for s in document.statements)
    assert document.raw == raw


@pytest.mark.parametrize(
    "question",
    ["\ufdfa" * 2000, "\ufdfa" * 112 + "?", "x" * 10_000_000],
    ids=["2000-x-U+FDFA", "112-x-U+FDFA", "10-million-chars"],
)
def test_question_length_is_checked_after_unicode_normalisation(question: str) -> None:
    assert len(unicodedata.normalize("NFKC", question)) > 2000
    started = time.perf_counter()
    with pytest.raises(InputError, match="limit is 2,000"):
        clean_question(question, 2000)
    print(f"refused in {time.perf_counter() - started:.4f} s")


# --------------------------------------------------------------------------- 8. races


@pytest.mark.slow
def test_reader_never_sees_a_mix_of_two_builds(make_corpus, embedder, tmp_path: Path) -> None:
    """Builds swapped in every 20 ms while a reader loads in a loop: every load is one whole build."""
    settings = make_corpus({"a-guideline.md": GOOD})
    build_index(settings, embedder)
    first = tmp_path / "first"
    shutil.copytree(settings.index_dir, first)
    (settings.corpus_dir / "b-guideline.md").write_text(SECOND, encoding="utf-8")
    build_index(settings, embedder)
    second = tmp_path / "second"
    shutil.copytree(settings.index_dir, second)
    stop = threading.Event()

    def swap_forever() -> None:
        for source in itertools.cycle([first, second]):
            if stop.is_set():
                return
            staging = settings.index_dir.parent / f".{settings.index_dir.name}.tmp-test"
            shutil.copytree(source, staging)
            with build_lock(settings.index_dir):
                _swap_in(staging, settings.index_dir)
            time.sleep(0.02)

    swapper = threading.Thread(target=swap_forever)
    swapper.start()
    sizes, failures = [], []
    try:
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                sizes.append(load_index(settings, check_stale=False).faiss_index.ntotal)
            except IndexCorrupt as exc:
                failures.append(str(exc))
    finally:
        stop.set()
        swapper.join(30)
    assert not failures, f"{len(failures)} of {len(sizes) + len(failures)} loads saw a mix: {failures[0]}"
    assert set(sizes) <= {2, 3} and len(sizes) > 20


def test_two_questions_finding_no_index_build_it_once(make_corpus, embedder) -> None:
    settings = make_corpus({"a-guideline.md": GOOD, "b-guideline.md": SECOND})
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(ensure_index(settings, embedder))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    assert len(results) == 2
    first, second = (result.manifest for result in results)  # type: ignore[attr-defined]
    assert first == second, "the second caller built the same index again"
