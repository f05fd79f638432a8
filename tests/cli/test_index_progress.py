"""``index build`` prints readable progress that counts to the total (real model, real build, logged output)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from assistant.cli import EXIT_OK, app

GOOD = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
SECOND = "# Splenectomy\n\n## Indications\n\nSplenectomy is considered after failure of second-line therapy [3].\n"


def test_build_logs_files_and_statements_up_to_the_total(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "b.md").write_text(SECOND, encoding="utf-8")
    dirs = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    first = CliRunner().invoke(app, ["index", "build", *dirs])
    assert first.exit_code == EXIT_OK, first.output
    assert "Reading files 2/2" in first.output
    built = int(re.search(r"Built (\d+) chunks", first.output).group(1))
    embedded = re.findall(r"Embedding ([\d,]+) / ([\d,]+)", first.output)
    assert embedded[-1] == (f"{built:,}", f"{built:,}")  # every statement is new on a first build
    again = CliRunner().invoke(app, ["index", "build", "--full", *dirs])
    assert again.exit_code == EXIT_OK, again.output
    assert "Embedding" not in again.output and "Writing the index" in again.output  # all from the cache
