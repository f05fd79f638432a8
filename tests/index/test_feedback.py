"""Clinicians' verdicts kept beside the index, and ``feedback export`` turning them into gold.

Real files in a temporary index folder; the export runs through the real typer command.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.errors import IndexFolderError
from assistant.evaluation.gold import load_gold
from assistant.index.build import CARRIED_OVER
from assistant.index.feedback import FEEDBACK_FILE, FeedbackRecord, append_feedback, read_feedback
from assistant.index.owned import create_marked

BUILD = "2026-12-07T01:00:00+00:00"


def _owned(tmp_path):
    folder = tmp_path / "index"
    create_marked(folder)
    return folder


def test_feedback_is_written_only_into_a_folder_the_project_marked(tmp_path) -> None:
    record = FeedbackRecord(question="Q?", answered=True, evidence="A statement.", build=BUILD)
    stranger = tmp_path / "someone-elses"
    stranger.mkdir()
    with pytest.raises(IndexFolderError, match="not an index folder this project made"):
        append_feedback(stranger, record)
    assert list(stranger.iterdir()) == []
    assert FEEDBACK_FILE in CARRIED_OVER  # a rebuild keeps what clinicians recorded


def test_a_not_in_the_guidelines_verdict_names_no_statement() -> None:
    with pytest.raises(ValueError, match="names no statement"):
        FeedbackRecord(question="Q?", answered=False, evidence="X.", abstain=True, build=BUILD)


# (verdicts in the order recorded, gold items expected: question -> (evidence, abstain))
EXPORTS = [
    (
        [("Dose of IVIG?", True, "IVIG 1 g/kg is given.", False)],
        {"Dose of IVIG?": (["IVIG 1 g/kg is given."], False)},
    ),
    (
        [("Dose of IVIG?", True, "Wrong one.", False), ("Dose of IVIG?", False, "IVIG 1 g/kg is given.", False)],
        {"Dose of IVIG?": (["IVIG 1 g/kg is given."], False)},  # the latest verdict wins
    ),
    (
        [("Capital of France?", False, None, True)],
        {"Capital of France?": ([], True)},
    ),
]


@pytest.mark.parametrize(("verdicts", "expected"), EXPORTS)
def test_export_writes_gold_that_eval_reads(tmp_path, verdicts, expected) -> None:
    index = _owned(tmp_path)
    for question, answered, evidence, abstain in verdicts:
        append_feedback(
            index, FeedbackRecord(question=question, answered=answered, evidence=evidence, abstain=abstain, build=BUILD)
        )
    (index / FEEDBACK_FILE).open("a", encoding="utf-8").write("not json\n")
    records, problems = read_feedback(index / FEEDBACK_FILE)
    assert len(records) == len(verdicts) and len(problems) == 1
    out = tmp_path / "gold.jsonl"
    result = CliRunner().invoke(app, ["feedback", "export", "--out", str(out), "--index", str(index)])
    assert result.exit_code == 0, result.output
    items = load_gold(out)  # the loader eval, calibrate and train-ranker use
    assert {item.question: (item.evidence, item.abstain) for item in items} == expected
    assert all(item.tags == ["feedback"] for item in items)


def test_export_with_no_feedback_is_one_clear_line(tmp_path) -> None:
    result = CliRunner().invoke(app, ["feedback", "export", "--out", str(tmp_path / "g.jsonl"), "--index", str(tmp_path)])
    assert result.exit_code == 2 and "no feedback to export" in result.output
    assert not (tmp_path / "g.jsonl").exists()
