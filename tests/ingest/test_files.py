"""Which files count and how each is read: formats, repairs, and odd entries in a clinician's folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.errors import CorpusError
from assistant.ingest.files import MAX_DEPTH, load_corpus, read_source

GOOD = "# Anaemia\n\n## Treatment\n\nOral iron is offered first [1].\n\nIntravenous iron is used when oral iron fails [2].\n"
MOJIBAKE = GOOD.replace("is offered", "is offered Ã¢Â€Â\u0094").encode("utf-8")


@pytest.mark.parametrize(
    ("name", "content", "offsets", "repaired"),
    [
        ("a.txt", GOOD.encode(), "raw", False),
        ("a.md", GOOD.encode(), "raw", False),
        ("a.markdown", GOOD.encode(), "raw", False),
        ("a.html", b"<html><body><h1>Anaemia</h1><p>Oral iron is offered first.</p></body></html>", "canonical", False),
        ("a.htm", b"<p>Oral iron is offered first.</p><p>Review at four weeks.</p>", "canonical", False),
        ("broken.md", "Oral iron is offered first â€” always.\n".encode(), "canonical", True),
    ],
)
def test_each_format_is_read_with_the_right_offsets(tmp_path: Path, name: str, content: bytes, offsets: str, repaired: bool) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    source = read_source(path)
    assert source.offsets == offsets
    assert bool(source.repairs) == repaired
    assert all(note.startswith(f"{name}:") for note in source.repairs)
    assert "Oral iron is offered first" in source.text


def test_a_repaired_file_is_indexed_from_its_repaired_text_with_a_note(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "broken.md").write_bytes("# Iron\n\nOral iron is offered first â€” always [1].\n".encode())
    loaded = load_corpus(corpus)
    parsed = loaded.files[0]
    assert parsed.source_text.offsets == "canonical" and "—" in parsed.source_text.text
    assert loaded.notes and "mojibake" in loaded.notes[0] and not loaded.problems
    text = parsed.source_text.text
    assert all(text[s.start : s.end] == s.text for s in parsed.document.statements)


def test_odd_entries_are_reported_and_the_rest_is_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.md").write_text(GOOD, encoding="utf-8")
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "dangling.md").symlink_to(tmp_path / "missing.md")
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    deep = corpus
    for level in range(MAX_DEPTH + 5):
        deep = deep / f"d{level}"
    deep.mkdir(parents=True)
    (deep / "deep.md").write_text(GOOD.replace("first", "first, deep down"), encoding="utf-8")

    loaded = load_corpus(corpus)

    assert [doc.source for doc in loaded.documents] == ["good.md"]
    joined = " ".join(loaded.problems)
    assert "pipe.txt: is not a regular file" in joined
    assert "dangling.md: is a broken link" in joined
    assert f"nested deeper than {MAX_DEPTH}" in joined
    assert all("\n" not in problem for problem in loaded.problems)


def test_an_empty_folder_names_the_supported_types(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"\.pdf"):
        load_corpus(tmp_path)
