"""The append-only audit log: records appended as JSON Lines, never rewritten, damaged lines reported, kept across rebuilds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.errors import AuditLogError
from assistant.index import audit
from assistant.index.owned import create_marked
from assistant.settings import Settings


def _owned_index(tmp_path: Path) -> Settings:
    index = tmp_path / "index"
    create_marked(index)
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=index)


def test_records_are_appended_and_read_back_in_order(tmp_path: Path) -> None:
    settings = _owned_index(tmp_path)
    guideline = tmp_path / "g.md"
    guideline.write_bytes(b"# G\n\nText.\n")
    audit.library_change(settings, "upload", file=guideline, client="10.1.2.3")
    audit.append(settings, audit.answer_record("IVIG dose?", "b1", ["c1", "c2"], ["dose_mismatch"], False))
    found = audit.read_log(settings.index_dir / audit.AUDIT_FILE)
    assert found.problems == []
    upload, answer = found.records
    assert upload["action"] == "upload" and upload["file"] == "g.md" and upload["client"] == "10.1.2.3"
    assert upload["size"] == 11 and upload["sha256"] == audit.sha256_hex(b"# G\n\nText.\n") and upload["time"]
    assert answer["question_sha256"] == audit.sha256_hex("IVIG dose?") and "IVIG" not in json.dumps(answer)
    assert answer["statements"] == ["c1", "c2"] and answer["flags"] == ["dose_mismatch"] and answer["build_id"] == "b1"


DAMAGE = [
    ("not JSON", b"{broken\n"),
    ("a JSON list", b"[1, 2]\n"),
    ("no action", b'{"time": "x"}\n'),
    ("cut short by a crash", b'{"action": "upl'),
    ("binary", b"\xff\xfe\x00garbage\n"),
]


@pytest.mark.parametrize("damage", [d[1] for d in DAMAGE], ids=[d[0] for d in DAMAGE])
def test_a_damaged_line_is_reported_and_the_log_is_never_rewritten(tmp_path: Path, damage: bytes) -> None:
    settings = _owned_index(tmp_path)
    log = settings.index_dir / audit.AUDIT_FILE
    audit.library_change(settings, "rebuild", client="cli:me")
    with log.open("ab") as sink:
        sink.write(damage)
    before = log.read_bytes()
    audit.library_change(settings, "rebuild", client="cli:me")
    assert log.read_bytes().startswith(before), "appended, never rewritten"
    found = audit.read_log(log)
    assert [r["action"] for r in found.records] == ["rebuild", "rebuild"]
    assert len(found.problems) == 1 and "line 2" in found.problems[0]


def test_the_cli_prints_the_log_and_reports_damage(tmp_path: Path) -> None:
    settings = _owned_index(tmp_path)
    audit.library_change(settings, "rebuild", client="cli:me")
    with (settings.index_dir / audit.AUDIT_FILE).open("ab") as sink:
        sink.write(b"{broken\n")
    result = CliRunner().invoke(app, ["audit", "--index", str(settings.index_dir), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip())["client"] == "cli:me"
    assert "line 2: damaged" in result.stderr
    table = CliRunner().invoke(app, ["audit", "--index", str(settings.index_dir)])
    assert table.exit_code == 0 and "rebuild" in table.stdout and "cli:me" in table.stdout


REFUSED = [
    ("no index folder yet", lambda tmp: Settings(index_dir=tmp / "missing")),
    ("a folder the project did not make", lambda tmp: Settings(index_dir=tmp)),
]


@pytest.mark.parametrize("make", [r[1] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_no_log_is_written_into_a_folder_that_is_not_an_index(tmp_path: Path, make) -> None:
    settings = make(tmp_path)
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(AuditLogError) as caught:
        audit.library_change(settings, "rebuild")
    assert "GUIDELINE_ASSISTANT_AUDIT_LOG" in str(caught.value)
    assert sorted(tmp_path.rglob("*")) == before


def test_a_symbolic_link_is_not_followed(tmp_path: Path) -> None:
    settings = _owned_index(tmp_path)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep\n", encoding="utf-8")
    os.symlink(elsewhere, settings.index_dir / audit.AUDIT_FILE)
    with pytest.raises(AuditLogError):
        audit.library_change(settings, "rebuild")
    assert elsewhere.read_text(encoding="utf-8") == "keep\n"


def test_the_log_survives_a_rebuild_as_the_same_file(make_corpus) -> None:
    from assistant import Assistant

    settings = make_corpus({"g.md": "# G\n\n## Dose\n\nGive IVIG 1 g/kg once [1].\n"})
    Assistant.build(settings)
    Assistant.record_change(settings, "rebuild", client="first")
    (settings.corpus_dir / "h.md").write_text(
        "# H\n\n## Dose\n\nGive prednisone 1 mg/kg daily [1].\n", encoding="utf-8"
    )
    Assistant.build(settings)
    Assistant.record_change(settings, "rebuild", client="second")
    records = audit.read_log(audit.log_path(settings)).records
    assert [r["client"] for r in records] == ["first", "second"]


@pytest.mark.slow  # builds an index through the command line
def test_the_command_line_records_its_build_and_answers(make_corpus) -> None:
    settings = make_corpus({"g.md": "# G\n\n## Dose\n\nGive IVIG 1 g/kg once [1].\n"})
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    runner = CliRunner()
    assert runner.invoke(app, ["index", "build", *where]).exit_code == 0
    asked = runner.invoke(app, ["ask", "IVIG dose?", *where], env={"GUIDELINE_ASSISTANT_AUDIT_ANSWERS": "1"})
    assert asked.exit_code == 0, asked.output
    build, answer = audit.read_log(audit.log_path(settings)).records
    assert build["action"] == "rebuild" and build["client"].startswith("cli")
    assert answer["action"] == "answer" and answer["client"] == build["client"] and answer["statements"]
