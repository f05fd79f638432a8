"""Training the ranker inside document-disjoint evaluation: each fold is answered by a model that never saw it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import app
from assistant.evaluation.folds import assign_folds, evaluate_folds, item_sources
from assistant.evaluation.gold import load_gold
from assistant.evaluation.train_ranker import collect, fold_trainer


def _eval_args(settings, gold: Path, out: Path, *extra: str) -> list[str]:
    return [
        "eval", "--gold", str(gold), "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir),
        "--out", str(out), "--thresholds", str(out.parent / "gates.toml"), *extra,
    ]


def test_each_fold_is_ranked_by_a_model_trained_on_the_other_fold_only(two_guideline_library, tmp_path):
    from assistant import Assistant

    settings, gold = two_guideline_library
    items = load_gold(gold)
    assistant = Assistant.load(settings=settings)
    groups = item_sources(items, None, assistant.searcher.chunks)
    folds = assign_folds(groups, 2)
    assert set(folds.values()) == {0, 1}, "the fixture's two guidelines must fall in different folds"
    trainer = fold_trainer(assistant, items)
    seen: dict[int, set[str]] = {}

    def spy(fold, training):
        seen[fold] = {groups[item.id] for item in training}
        chosen = trainer(fold, training)
        assert chosen.ranker.model is not None and "other than" in chosen.ranker.model.origin
        return chosen

    record = evaluate_folds(spy, items, 2, tmp_path / "out", groups=groups)
    for fold, training_guidelines in seen.items():
        held = {groups[item.id] for item in items if folds[item.id] == fold}
        assert not training_guidelines & held
    assert record["mean"]["answer.evidence_recall"] is not None


def test_eval_train_ranker_via_the_cli(two_guideline_library, tmp_path):
    settings, gold = two_guideline_library
    (tmp_path / "gates.toml").write_text('[minimum]\n"quotes.fidelity" = 1.0\n', encoding="utf-8")
    result = CliRunner().invoke(app, _eval_args(settings, gold, tmp_path / "out", "--folds", "2", "--train-ranker"))
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["mean"]["answer.evidence_recall"] is not None
    assert metrics["folds"]["1"]["answer.evidence_recall"] is not None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--train-ranker needs --folds"),
        (["--folds", "2"], "cannot"),
    ],
)
def test_train_ranker_errors_are_one_line(two_guideline_library, tmp_path, extra, message):
    settings, gold = two_guideline_library
    if extra:  # a gold file whose evidence is nowhere in the library cannot train a ranker
        bad = tmp_path / "bad.jsonl"
        rows = [json.loads(line) for line in gold.read_text().splitlines()]
        bad.write_text("\n".join(json.dumps({**row, "evidence": ["no statement says this"]}) for row in rows) + "\n")
        gold = bad
    (tmp_path / "gates.toml").write_text('[minimum]\n"quotes.fidelity" = 1.0\n', encoding="utf-8")
    result = CliRunner().invoke(app, _eval_args(settings, gold, tmp_path / "out", *extra, "--train-ranker"))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_collect_labels_the_statements_that_hold_the_evidence(two_guideline_library):
    from assistant import Assistant

    settings, gold = two_guideline_library
    assistant = Assistant.load(settings=settings)
    data = collect(assistant.searcher, load_gold(gold))
    assert len(data.ids) == 12
    for chunk_ids, labels in zip(data.chunk_ids, data.labels, strict=True):
        assert labels.sum() == 1 and len(chunk_ids) == len(labels)
