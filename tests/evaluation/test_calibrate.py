"""Abstention calibration: searched on a gold set, stored with the index, applied unless set by the user."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.evaluation.calibrate import GRID, calibrate, prepare, search_grid
from assistant.evaluation.gold import load_gold, split_gold
from assistant.index.calibration import CALIBRATION_FILE, read_calibration
from assistant.settings import Settings

GOLD = Path(__file__).resolve().parents[2] / "evals" / "gold.jsonl"
SMALL_GRID = {
    "abstain_threshold": (0.15, 0.30),
    "general_threshold": (0.45, 0.60),
    "strict_threshold": (0.65, 0.80),
    "uncovered_threshold": (0.55,),
}


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory, assistant: Assistant) -> Assistant:
    """The bundled assistant answering from a private copy of its index (calibration writes into it)."""
    root = tmp_path_factory.mktemp("calibrated")
    shutil.copytree(assistant.settings.index_dir, root / "index")
    settings = assistant.settings.with_overrides(index_dir=root / "index")
    return Assistant(assistant.searcher, settings)


def test_calibration_never_declines_more_answerable_questions_than_allowed(private: Assistant) -> None:
    items = split_gold(load_gold(GOLD), "tune")
    prepared = prepare(private, items)
    started = time.perf_counter()
    current, best = search_grid(prepared, private.settings, SMALL_GRID)
    print(f"grid of 8 points over {len(items)} questions: {time.perf_counter() - started:.1f} s")
    assert best.false_abstention <= 0.03
    assert best.score >= current.score
    assert set(best.values) == set(GRID)


def test_calibrate_stores_its_result_and_load_applies_it(private: Assistant, embedder) -> None:
    items = split_gold(load_gold(GOLD), "tune")
    record = calibrate(private, items, "gold.jsonl", "tune", SMALL_GRID)
    stored = json.loads((private.settings.index_dir / CALIBRATION_FILE).read_text())
    assert stored["settings"] == record["settings"] and stored["split"] == "tune"
    values, problem = read_calibration(private.settings.index_dir)
    assert problem is None and values == record["settings"]
    loaded = Assistant.load(settings=private.settings)
    assert {name: getattr(loaded.settings, name) for name in values} == values


def test_a_setting_given_explicitly_wins_over_the_calibration(private: Assistant) -> None:
    index_dir = private.settings.index_dir
    (index_dir / CALIBRATION_FILE).write_text(json.dumps({"settings": {"strict_threshold": 0.7}}))
    chosen = Assistant.load(settings=private.settings, strict_threshold=0.9)
    assert chosen.settings.strict_threshold == 0.9
    assert Assistant.load(settings=private.settings).settings.strict_threshold == 0.7


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        json.dumps({"settings": {"strict_threshold": 7}}),
        json.dumps({"settings": {"k": 0.5}}),
        json.dumps({"settings": {"strict_threshold": "0.7"}}),
        json.dumps(["settings"]),
    ],
)
def test_a_damaged_calibration_is_ignored_with_a_note(private: Assistant, content: str) -> None:
    (private.settings.index_dir / CALIBRATION_FILE).write_text(content)
    notes: list[str] = []
    loaded = Assistant.load(settings=private.settings, notify=notes.append)
    assert loaded.settings.strict_threshold == Settings().strict_threshold
    assert any(CALIBRATION_FILE in note and "calibrate" in note for note in notes)


@pytest.mark.slow
def test_the_calibrate_command_stores_a_calibration(private: Assistant) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    settings = private.settings
    (settings.index_dir / CALIBRATION_FILE).unlink(missing_ok=True)
    result = CliRunner().invoke(
        app, ["calibrate", "--gold", str(GOLD), "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    )
    assert result.exit_code == 0, result.output
    values, problem = read_calibration(settings.index_dir)
    assert problem is None and set(values) == set(GRID)


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"id": "a", "question": "IVIG dose?", "facts": ["1 g/kg"], "evidence": ["1 g/kg"]}\n', "no abstain item"),
        ("not json\n", "invalid gold"),
    ],
)
def test_the_calibrate_command_refuses_an_unusable_gold_file(tmp_path: Path, content: str, why: str) -> None:
    from typer.testing import CliRunner

    from assistant.cli import app

    gold = tmp_path / "gold.jsonl"
    gold.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, ["calibrate", "--gold", str(gold), "--split", "all"])
    assert result.exit_code == 2, (why, result.output)
