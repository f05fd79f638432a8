"""Parsing in a process pool gives the sequential parse, in the same order, with progress counting to the total."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest import files
from tests.ingest.test_pdf import dose_table_pdf, two_column_pdf

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")


def _library(folder: Path, texts: int) -> Path:
    folder.mkdir()
    two_column_pdf(folder / "sepsis.pdf")
    dose_table_pdf(folder / "doses.pdf")
    for n in range(texts):
        (folder / f"guide-{n:02d}.md").write_text(GOOD.replace("IVIG", f"IVIG-{n}"), encoding="utf-8")
    (folder / "empty.md").write_text("\n\n", encoding="utf-8")  # a problem, reported in place
    (folder / "copy.md").write_text(GOOD.replace("IVIG", "IVIG-0"), encoding="utf-8")  # a duplicate of guide-00
    return folder


def _view(corpus: files.Corpus) -> tuple[list[tuple[str, str, int]], list[str], list[str]]:
    return (
        [(p.document.source, p.document.sha256, len(p.document.statements)) for p in corpus.files],
        corpus.problems,
        corpus.notes,
    )


@pytest.mark.parametrize("texts", [1, 20])  # two PDFs beside few files, and many files: both go to the pool
def test_pool_parse_equals_sequential_parse(tmp_path: Path, texts: int) -> None:
    folder = _library(tmp_path / "lib", texts)
    events: list[tuple[int, int, str]] = []
    pooled = files.load_corpus(folder, progress=lambda *event: events.append(event))
    if (files.os.cpu_count() or 1) > 1:  # the pool really ran (this machine has 2 cores)
        assert files._workers([(folder / "sepsis.pdf", "a"), (folder / "doses.pdf", "b")]) == 2
        assert files._workers([(folder / "sepsis.pdf", "a"), (folder / "x.md", "b")]) == 0  # one PDF sets the floor
    sequential = files.load_corpus(folder, parallel=False)
    assert _view(pooled) == _view(sequential)
    total = texts + 4
    assert events[0] == (0, total, "")
    assert [done for done, _, _ in events] == list(range(total + 1))
    assert {of for _, of, _ in events} == {total}
    assert any("copy.md" in problem for problem in pooled.problems)


def test_skipped_files_are_not_counted(tmp_path: Path) -> None:
    folder = _library(tmp_path / "lib", 1)
    events: list[tuple[int, int, str]] = []
    files.load_corpus(folder, skip=frozenset({"sepsis.pdf", "doses.pdf"}), progress=lambda *event: events.append(event))
    assert events[-1][:2] == (3, 3)


@pytest.mark.parametrize(
    ("script", "pool"),
    [
        ('import streamlit as st\nst.title("page")\n', False),  # a Streamlit page: re-running it would rebuild
        ('def main():\n    pass\n\nif __name__ == "__main__":\n    main()\n', True),  # a guarded script
    ],
)
def test_no_pool_when_the_main_script_would_run_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, pool: bool
) -> None:
    import types

    path = tmp_path / "main_script.py"
    path.write_text(script, encoding="utf-8")
    main = types.ModuleType("__main__")
    main.__file__ = str(path)
    main.__spec__ = None
    monkeypatch.setitem(files.sys.modules, "__main__", main)
    folder = _library(tmp_path / "lib", 1)
    todo = [(p, p.name) for p in sorted(folder.iterdir())]
    assert (files._workers(todo) > 0) is pool
