"""The command line: output shapes and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.answer import Flag, Quote
from assistant.cli import EXIT_FAILURE, EXIT_INPUT, EXIT_OK, app
from assistant.present import alert_text, flag_title

runner = CliRunner()


@pytest.fixture
def dirs(settings, assistant) -> list[str]:
    return ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]


def test_ask_json(dirs: list[str]) -> None:
    result = runner.invoke(app, ["ask", "--json", "What IVIG dose is used in warm AIHA?", *dirs])
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert any("1 g/kg" in q["text"] for q in data["quotes"])
    assert "1" in data["citations"]


def test_ask_human_output_shows_quote_citation_and_dose_table(dirs: list[str]) -> None:
    result = runner.invoke(app, ["ask", "What rituximab dose is used in refractory warm AIHA?", *dirs])
    assert result.exit_code == EXIT_OK
    assert "375 mg/m² weekly × 4 doses" in result.stdout
    assert "[6] [4]" in result.stdout
    assert "Doses in the quoted statements" in result.stdout


def test_abstention_exits_zero(dirs: list[str]) -> None:
    result = runner.invoke(app, ["ask", "--json", "What is the capital of Australia?", *dirs])
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout)["abstained"] is True


@pytest.mark.parametrize("question", ["", "   ", "x" * 2001])
def test_bad_question_exits_two_without_traceback(dirs: list[str], question: str) -> None:
    result = runner.invoke(app, ["ask", question, *dirs])
    assert result.exit_code == EXIT_INPUT
    assert "Traceback" not in result.output
    assert "Error:" in result.stderr


def test_batch_mode_one_json_per_line_blank_lines_skipped(dirs: list[str]) -> None:
    stdin = "What IVIG dose is used in warm AIHA?\n\n   \nWhat is the capital of Australia?\n"
    result = runner.invoke(app, ["ask", "--json", "-", *dirs], input=stdin)
    assert result.exit_code == EXIT_OK
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["abstained"] for line in lines] == [False, True]


def test_batch_mode_reports_a_bad_line_and_goes_on(dirs: list[str]) -> None:
    result = runner.invoke(app, ["ask", "--json", "-", *dirs], input="x" * 2001 + "\nIVIG dose?\n")
    assert result.exit_code == EXIT_INPUT
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["line"] == 1 and "2,001" in first["error"]
    assert "quotes" in second


def test_missing_corpus_exits_one(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "IVIG?", "--corpus", str(tmp_path / "no"), "--index", str(tmp_path / "i")])
    assert result.exit_code == EXIT_FAILURE
    assert "does not exist" in result.stderr


def test_index_status_json(dirs: list[str]) -> None:
    result = runner.invoke(app, ["index", "status", "--json", *dirs])
    assert result.exit_code == EXIT_OK
    data = json.loads(result.stdout)
    assert data["up_to_date"] is True and data["chunks"] == 31
    assert data["documents"] == ["ivig-in-aiha.txt"] and data["model"] == "all-MiniLM-L6-v2"


def test_index_status_check_fails_when_missing(tmp_path: Path, settings) -> None:
    args = ["index", "status", "--check", "--corpus", str(settings.corpus_dir), "--index", str(tmp_path / "none")]
    assert runner.invoke(app, args).exit_code == EXIT_FAILURE


def test_user_markdown_corpus_through_build_and_ask(make_corpus) -> None:
    settings = make_corpus(
        {
            "anticoag.md": "# Anticoagulation in AF\n\n## Dosing\n\nApixaban 5 mg twice daily is the standard dose [1].\n"
            "Reduce to 2.5 mg twice daily when two of age ≥80, weight ≤60 kg or creatinine ≥1.5 apply [2, 3].\n"
        }
    )
    dirs = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    build = runner.invoke(app, ["index", "build", *dirs])
    assert build.exit_code == EXIT_OK, build.output
    result = runner.invoke(app, ["ask", "--json", "What is the apixaban dose?", *dirs])
    data = json.loads(result.stdout)
    assert any(q["text"].startswith("Apixaban 5 mg twice daily") and q["citations"] == ["1"] for q in data["quotes"])
    assert data["quotes"][0]["source"] == "anticoag.md"


def test_console_script_runs_offline(settings, assistant) -> None:
    """The installed entry point, in a real process, with hub access switched off."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    command = [sys.executable, "-m", "assistant.cli", "ask", "--json", "Can IVIG replace steroids?"]
    command += ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["quotes"]
    assert "Traceback" not in done.stderr


SEVERAL_FLAGS = "How much IVIG for a 20 kg child with warm AIHA? I read 10 g/kg."


def test_ask_shows_each_flag_sentence_once_titled_by_the_policy(dirs: list[str]) -> None:
    """Alerts first, each message once (never again among the notes), under the policy's title."""
    answer = json.loads(runner.invoke(app, ["ask", "--json", SEVERAL_FLAGS, *dirs]).stdout)
    flags = answer["guardrail"]["flags"]
    assert len(flags) >= 3, "the question should raise several flags"
    assert any(flag["message"] in answer["notes"] for flag in flags), "some flag sentences are also notes"
    result = runner.invoke(app, ["ask", SEVERAL_FLAGS, *dirs], terminal_width=100)
    assert result.exit_code == EXIT_OK, result.output
    shown = " ".join(result.stdout.split())
    quotes = [Quote.model_validate(quote) for quote in answer["quotes"]]
    # as an alert says it: guideline titles for file names, the statement not quoted again
    said = [" ".join(alert_text(raw["message"], quotes).split()) for raw in flags]
    for raw, sentence in zip(flags, said, strict=True):
        flag = Flag.model_validate(raw)
        assert shown.count(sentence) == 1, f"{flag.code.value} shown {shown.count(sentence)} times"
        assert f"{flag_title(flag)}: {sentence}" in shown
        assert flag.code.value not in shown, "a title in words, never the raw code"
    assert shown.index(said[0]) < shown.index("The guideline says (quoted verbatim):")
