"""Corpus faults: files a clinician might drop into the guideline folder by mistake.

Each bad file gets a message naming it, the good files are still indexed, and no
file disappears without a message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import CorpusError
from assistant.index.build import build_index
from assistant.index.store import corpus_fingerprint, load_index
from assistant.ingest.files import MAX_FILE_BYTES, corpus_files, load_corpus

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOOD = (PROJECT_ROOT / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
SECOND_GOOD = "# Splenectomy\n\n## Indications\n\nSplenectomy is considered after failure of second-line therapy [3].\n"

# name -> (content, words the message about it must contain)
BAD_FILES: dict[str, tuple[str | bytes, str]] = {
    "empty.txt": (b"", "no statements"),
    "blank.md": ("   \n\n\t\n", "no statements"),
    "headings-only.md": ("# Title\n\n## Section\n\n### Another\n", "no statements"),
    "numbers-only.txt": ("1, 2, 3\n\n4 5 6\n", "no statements"),
    "binary.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    "latin1.txt": ("Hémolyse auto-immune: traitement de première ligne.\n".encode("latin-1"), "UTF-8"),
    "utf16.md": ("# Guideline\n\nSteroids are first line.\n".encode("utf-16"), "binary"),
    "copy-of-guideline.txt": (GOOD, "identical to"),
    "huge.txt": ("x" * 10_000_000, "limit"),
    "notes.pdf": (b"%PDF-1.4 not really a pdf", "damaged"),
    "scan.html": (b"<html><script>var x = 1;</script></html>", "no readable text"),
    "nested/deeper/guideline.docx": (b"PK\x03\x04", "unsupported file type"),
    "no-extension": ("Steroids are first line.\n", "unsupported file type"),
}


@pytest.fixture
def messy(make_corpus):
    return make_corpus({"a-guideline.txt": GOOD, "splenectomy.md": SECOND_GOOD, **{k: v for k, (v, _) in BAD_FILES.items()}})


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_each_bad_file_is_skipped_with_a_message_naming_it(make_corpus, name: str) -> None:
    content, words = BAD_FILES[name]
    settings = make_corpus({"a-guideline.txt": GOOD, name: content})
    corpus = load_corpus(settings.corpus_dir)
    assert [doc.source for doc in corpus.documents] == ["a-guideline.txt"]
    assert len(corpus.problems) == 1, corpus.problems
    problem = corpus.problems[0]
    assert Path(name).name in problem and words in problem, problem
    assert "\n" not in problem and "Traceback" not in problem


def test_nothing_is_dropped_without_a_message(messy) -> None:
    corpus = load_corpus(messy.corpus_dir)
    used = {doc.source for doc in corpus.documents}
    assert used == {"a-guideline.txt", "splenectomy.md"}
    for path in corpus_files(messy.corpus_dir):
        source = path.relative_to(messy.corpus_dir).as_posix()
        assert source in used or any(Path(source).name in problem for problem in corpus.problems), source
    assert len(corpus.problems) == len(BAD_FILES)


def test_good_files_are_still_indexed_and_problems_recorded(messy, embedder) -> None:
    loaded = build_index(messy, embedder)
    assert loaded.manifest.n_documents == 2
    assert {chunk.source for chunk in loaded.chunks} == {"a-guideline.txt", "splenectomy.md"}
    assert len(loaded.manifest.problems) == len(BAD_FILES)
    again = load_index(messy)
    assert again.manifest.problems == loaded.manifest.problems
    assert again.faiss_index.ntotal == len(again.chunks)


def test_a_corpus_with_no_usable_file_names_every_problem(make_corpus) -> None:
    settings = make_corpus({name: content for name, (content, _) in BAD_FILES.items() if name != "copy-of-guideline.txt"})
    with pytest.raises(CorpusError) as caught:
        load_corpus(settings.corpus_dir)
    message = str(caught.value)
    assert message.startswith(f"No usable guideline in {settings.corpus_dir}")
    for name in BAD_FILES:
        if name != "copy-of-guideline.txt":
            assert Path(name).name in message, name


def test_file_at_the_size_limit_is_read_and_one_byte_more_is_refused(make_corpus) -> None:
    body = "Steroids are the first-line treatment.\n"
    fits = body + "x" * (MAX_FILE_BYTES - len(body) - 1) + "\n"
    settings = make_corpus({"a-guideline.txt": GOOD, "fits.txt": fits, "over.txt": fits + "y"})
    corpus = load_corpus(settings.corpus_dir)
    assert "fits.txt" in {doc.source for doc in corpus.documents}
    assert len(corpus.problems) == 1 and "over.txt" in corpus.problems[0]


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda text: "\ufeff" + text, id="utf8-bom"),
        pytest.param(lambda text: text.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda text: text.replace("\n", "\r"), id="cr-only"),
    ],
)
def test_odd_but_valid_text_files_are_parsed_with_exact_offsets(make_corpus, variant) -> None:
    raw = variant(GOOD)
    settings = make_corpus({"g.txt": raw.encode("utf-8")})
    corpus = load_corpus(settings.corpus_dir)
    assert corpus.problems == []
    document = corpus.documents[0]
    assert document.statements
    assert all(raw[s.start : s.end] == s.text for s in document.statements)


# --------------------------------------------------------------------------- nothing outside the folder


def test_a_link_to_a_file_outside_the_corpus_is_not_read(make_corpus, tmp_path: Path, monkeypatch) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("The secret statement must never be indexed.\n", encoding="utf-8")
    settings = make_corpus({"a-guideline.txt": GOOD})
    (settings.corpus_dir / "linked.txt").symlink_to(secret)
    (settings.corpus_dir / "linked-dir").symlink_to(secret.parent, target_is_directory=True)

    read: list[Path] = []
    real_read_bytes = Path.read_bytes

    def spying_read_bytes(self: Path) -> bytes:
        read.append(self.resolve())
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", spying_read_bytes)
    corpus = load_corpus(settings.corpus_dir)
    fingerprint = corpus_fingerprint(settings.corpus_dir)
    monkeypatch.undo()

    assert [doc.source for doc in corpus.documents] == ["a-guideline.txt"]
    assert secret.resolve() not in read
    assert set(fingerprint) == {"a-guideline.txt"}
    assert any("linked.txt" in problem and "outside the corpus folder" in problem for problem in corpus.problems)
    assert not any("secret statement" in s.text for doc in corpus.documents for s in doc.statements)


def test_a_link_inside_the_corpus_is_followed(make_corpus) -> None:
    settings = make_corpus({"sub/real.md": SECOND_GOOD, "a-guideline.txt": GOOD})
    (settings.corpus_dir / "alias.md").symlink_to(settings.corpus_dir / "sub" / "real.md")
    corpus = load_corpus(settings.corpus_dir)
    # The same text twice: one is used, the other is reported as a duplicate.
    assert len(corpus.documents) == 2
    assert len(corpus.problems) == 1 and "identical to" in corpus.problems[0]


def test_hidden_files_and_folders_are_ignored(make_corpus) -> None:
    settings = make_corpus({"a-guideline.txt": GOOD, ".hidden.txt": SECOND_GOOD, ".git/notes.md": SECOND_GOOD})
    corpus = load_corpus(settings.corpus_dir)
    assert [doc.source for doc in corpus.documents] == ["a-guideline.txt"]


# --------------------------------------------------------------------------- through the CLI


@pytest.mark.slow
def test_cli_build_lists_every_skipped_file_and_indexes_the_good_ones(messy) -> None:
    # The 10 MB file is not needed again here; keep the subprocess quick.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "400", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "index", "build", "--corpus", str(messy.corpus_dir), "--index", str(messy.index_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    skipped = [line for line in done.stderr.splitlines() if line.startswith("Skipped:")]
    assert len(skipped) == len(BAD_FILES), done.stderr
    for name in BAD_FILES:
        assert any(Path(name).name in line for line in skipped), name
    assert "from 2 document(s)" in done.stderr


@pytest.mark.slow
def test_cli_with_no_usable_file_exits_1_naming_the_problems(make_corpus) -> None:
    settings = make_corpus({"empty.txt": b"", "binary.txt": b"\x00\x01"})
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "400", "NO_COLOR": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "What dose of IVIG?", "--corpus", str(settings.corpus_dir),
         "--index", str(settings.index_dir)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "empty.txt" in done.stderr and "binary.txt" in done.stderr
    assert done.stdout == ""
