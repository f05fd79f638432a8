"""Document-disjoint evaluation: folds by guideline (never by question), the --folds/--fold/--meta command line.

Made-up gold items and meta files only; the real run uses the bundled corpus and a few of its gold items.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli import EXIT_FAILURE, EXIT_INPUT, EXIT_OK, app
from assistant.evaluation.folds import (
    aggregate,
    assign_folds,
    concat_gold,
    default_meta_path,
    evaluate_folds,
    fold_of,
    gated_metrics,
    item_sources,
    item_styles,
    load_meta,
)
from assistant.evaluation.gold import GoldItem, load_gold

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_GOLD = ROOT / "evals" / "gold.jsonl"
GUIDELINES = [f"guideline-{letter}.md" for letter in "abcdefghijklmnop"]


def item(item_id: str, evidence: list[str] | None = None, abstain: bool = False, tags: list[str] | None = None):
    return GoldItem(
        id=item_id,
        question=f"Question {item_id}?",
        evidence=[] if abstain else (evidence or ["some words"]),
        abstain=abstain,
        tags=tags or [],
    )


def write_gold(path: Path, items: list[GoldItem], meta: dict[str, dict] | None = None) -> Path:
    path.write_text("".join(i.model_dump_json() + "\n" for i in items), encoding="utf-8")
    if meta is not None:
        path.with_name(f"{path.stem}_meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- groups and folds


def two_gold_sets() -> tuple[list[GoldItem], dict, list[GoldItem], dict]:
    """Two gold files over one made-up library: four questions per guideline, split between the files."""
    first = [item(f"a-{g}-{n}") for g in range(len(GUIDELINES)) for n in range(2)]
    second = [item(f"b-{g}-{n}") for g in range(len(GUIDELINES)) for n in range(2)]
    meta_a = {i.id: {"source": GUIDELINES[int(i.id.split("-")[1])], "kind": "dose"} for i in first}
    meta_b = {i.id: {"source": GUIDELINES[int(i.id.split("-")[1])], "style": "lay"} for i in second}
    return first, meta_a, second, meta_b


@pytest.mark.parametrize("n", [2, 3, 5, 7])
def test_the_same_guideline_lands_in_one_fold_across_two_gold_files(n: int) -> None:
    first, meta_a, second, meta_b = two_gold_sets()
    folds_a = assign_folds(item_sources(first, meta_a, None), n)
    folds_b = assign_folds(item_sources(second, meta_b, None), n)  # assigned separately: no shared state
    for guideline in GUIDELINES:
        in_a = {folds_a[i] for i, m in meta_a.items() if m["source"] == guideline}
        in_b = {folds_b[i] for i, m in meta_b.items() if m["source"] == guideline}
        assert len(in_a | in_b) == 1, f"{guideline} falls in folds {in_a | in_b} with {n} folds"
    assert set(folds_a.values()) | set(folds_b.values()) <= set(range(n))


@pytest.mark.parametrize("n", [2, 5])
def test_no_guideline_in_two_folds_when_the_sets_are_scored_together(n: int) -> None:
    first, meta_a, second, meta_b = two_gold_sets()
    items = concat_gold([("a.jsonl", first), ("b.jsonl", second)])
    groups = item_sources(items, {**meta_a, **meta_b}, None)
    folds = assign_folds(groups, n)
    fold_per_group: dict[str, set[int]] = {}
    for item_id, group in groups.items():
        fold_per_group.setdefault(group, set()).add(folds[item_id])
    assert all(len(found) == 1 for found in fold_per_group.values()), fold_per_group
    assert len(set(folds.values())) > 1, "sixteen guidelines should not all hash into one fold"


@pytest.mark.parametrize(
    ("group", "n"),
    [("sepsis.md", 5), ("pdf/nice-ng51.pdf", 5), ("item:abstain-1", 3), ("", 2)],
)
def test_fold_of_is_a_pure_function_of_the_name(group: str, n: int) -> None:
    assert fold_of(group, n) == fold_of(str(group), n) and 0 <= fold_of(group, n) < n
    with pytest.raises(ValueError, match="folds"):
        fold_of(group, 0)


@pytest.mark.parametrize(
    ("meta_entry", "abstain", "expected", "why"),
    [
        ({"source": "sepsis.md", "kind": "fact"}, False, "sepsis.md", "the meta's source wins"),
        ({"source": None, "kind": "abstain"}, True, "item:q", "out of scope: a group of its own"),
        (None, True, "item:q", "abstain without meta: a group of its own"),
        (None, False, "item:q", "no meta and no statements to match: a group of its own"),
    ],
)
def test_item_sources_from_meta(meta_entry: dict | None, abstain: bool, expected: str, why: str) -> None:
    meta = {"q": meta_entry} if meta_entry is not None else {}
    assert item_sources([item("q", abstain=abstain)], meta, None) == {"q": expected}, why


def test_a_gold_file_without_meta_groups_by_the_source_of_its_evidence(make_corpus) -> None:
    from assistant.ingest.chunking import chunk_corpus
    from assistant.ingest.files import load_corpus

    settings = make_corpus(
        {
            "asthma.md": "# Asthma\n\nGive inhaled salbutamol 100 micrograms as needed.\n\nReview in two weeks.\n",
            "gout.md": "# Gout\n\nColchicine 500 micrograms twice daily treats an acute flare.\n",
        }
    )
    chunks = chunk_corpus(load_corpus(settings.corpus_dir))
    items = [
        item("inhaler", evidence=["INHALED   salbutamol 100 micrograms"]),  # matched as the evaluation matches
        item("flare", evidence=["nothing like this", "colchicine 500 micrograms twice daily"]),
        item("review", evidence=["review in two weeks"]),
        item("missing", evidence=["words no statement contains"]),
        item("outside", abstain=True),
    ]
    groups = item_sources(items, None, chunks)
    assert groups == {
        "inhaler": "asthma.md",
        "flare": "gout.md",
        "review": "asthma.md",
        "missing": "item:missing",
        "outside": "item:outside",
    }
    # An item the meta file leaves out falls back to its evidence; one it names keeps the meta's source.
    mixed = item_sources(items, {"inhaler": {"source": "other.md"}}, chunks)
    assert mixed["inhaler"] == "other.md" and mixed["flare"] == "gout.md"


def test_meta_files_beside_a_gold_file(tmp_path: Path) -> None:
    first, meta_a, _, _ = two_gold_sets()
    gold = write_gold(tmp_path / "gold_dev.jsonl", first, meta_a)
    assert default_meta_path(gold) == tmp_path / "gold_dev_meta.json"
    assert load_meta(default_meta_path(gold) or "") == meta_a
    assert default_meta_path(write_gold(tmp_path / "plain.jsonl", first)) is None
    assert item_styles(first, {first[0].id: {"source": "x.md", "style": "terse"}}) == {first[0].id: "terse"}


@pytest.mark.parametrize(
    ("content", "message"),
    [("[1, 2]", "JSON object"), ("{not json", "not valid JSON"), ('{"q": {"source": 3}}', "'source'")],
)
def test_a_bad_meta_file_is_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "meta.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_meta(path)


def test_duplicate_ids_across_gold_files_are_an_error() -> None:
    with pytest.raises(ValueError, match=r"'x' occurs in both a.jsonl and b.jsonl"):
        concat_gold([("a.jsonl", [item("x")]), ("b.jsonl", [item("y"), item("x")])])


@pytest.mark.parametrize(
    ("values", "mean", "std"),
    [
        ([0.8, 0.6], 0.7, 0.1),
        ([0.8, None], 0.8, 0.0),  # a fold with nothing to measure is left out, not counted as 0
        ([None, None], None, None),
    ],
)
def test_aggregate_mean_and_std_over_the_folds_that_measured(values: list, mean, std) -> None:
    summary = aggregate(
        {fold: {"answer.evidence_recall": v, "dose.unsupported_answers": 1.0} for fold, v in enumerate(values)}
    )
    assert summary["mean"]["answer.evidence_recall"] == pytest.approx(mean) if mean is not None else True
    assert summary["std"]["answer.evidence_recall"] == (pytest.approx(std) if std is not None else None)
    # Counts are gated on their total over the folds (one unsupported dose per fold is two in all).
    assert summary["total"]["dose.unsupported_answers"] == len(values)
    assert gated_metrics(summary)["dose.unsupported_answers"] == len(values)


# --------------------------------------------------------------------------- real runs on the bundled corpus


def small_gold() -> list[GoldItem]:
    """A few answerable questions (one guideline: one fold) and out-of-scope ones covering the other fold."""
    items = load_gold(BUNDLED_GOLD)
    answerable = [i for i in items if not i.abstain][::20][:4]
    home = assign_folds(item_sources(answerable, {i.id: {"source": "ivig-in-aiha.txt"} for i in answerable}), 2)
    abstain = [i for i in items if i.abstain]
    other = [i for i in abstain if fold_of(f"item:{i.id}", 2) != next(iter(home.values()))][:2]
    return answerable + other + [i for i in abstain if i not in other][:1]


def gates(tmp_path: Path, line: str = '"quotes.fidelity" = 1.0') -> str:
    path = tmp_path / "gates.toml"
    path.write_text(f"[minimum]\n{line}\n", encoding="utf-8")
    return str(path)


def cli_args(settings, gold: Path, out: Path, *extra: str) -> list[str]:
    return [
        "eval",
        "--gold",
        str(gold),
        "--corpus",
        str(settings.corpus_dir),
        "--index",
        str(settings.index_dir),
        "--out",
        str(out),
        *extra,
    ]


def test_eval_folds_writes_each_folds_figures_and_the_mean_and_std(settings, assistant, tmp_path: Path) -> None:
    gold = write_gold(tmp_path / "small.jsonl", small_gold())
    result = CliRunner().invoke(app, cli_args(settings, gold, tmp_path / "cv", "--folds", "2", "--thresholds", gates(tmp_path)))
    assert result.exit_code == EXIT_OK, result.output
    record = json.loads((tmp_path / "cv" / "metrics.json").read_text(encoding="utf-8"))
    assert set(record["folds"]) == {"0", "1"}
    for fold in ("0", "1"):
        assert (tmp_path / "cv" / f"fold-{fold}" / "report.md").is_file()
        assert record["folds"][fold]["gold.items"] == record["config"]["items_per_fold"][fold]
    assert record["total"]["gold.items"] == len(small_gold())
    assert record["mean"]["abstention.recall"] is not None and record["std"]["abstention.recall"] is not None
    measured = [m["answer.evidence_recall"] for m in record["folds"].values() if m["answer.evidence_recall"] is not None]
    assert record["mean"]["answer.evidence_recall"] == pytest.approx(sum(measured) / len(measured))
    report = (tmp_path / "cv" / "report.md").read_text(encoding="utf-8")
    assert "| Metric | fold 0 | fold 1 | mean ± std |" in report and "Answer evidence recall" in report
    assert "mean ± std" in result.output


def test_eval_one_fold_scores_only_its_held_out_questions(settings, assistant, tmp_path: Path) -> None:
    items = small_gold()
    gold = write_gold(tmp_path / "small.jsonl", items)
    folds = assign_folds(item_sources(items, None, assistant.searcher.chunks), 2)
    impossible = gates(tmp_path, '"abstention.recall" = 1.01')
    args = cli_args(settings, gold, tmp_path / "one", "--fold", "1", "--folds", "2", "--thresholds", impossible)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_FAILURE, result.output  # the gate is checked on the fold's figures
    assert "abstention.recall = 1 is below the minimum 1.01" in " ".join(result.output.split())
    record = json.loads((tmp_path / "one" / "metrics.json").read_text(encoding="utf-8"))
    assert list(record["folds"]) == ["1"]
    answered = (tmp_path / "one" / "fold-1" / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in answered] == [i.id for i in items if folds[i.id] == 1]


def test_the_training_hook_never_sees_a_held_out_guideline(assistant, tmp_path: Path) -> None:
    items = small_gold()
    seen: list[tuple[int, set[str]]] = []

    def trained(fold: int, train: list[GoldItem]):
        seen.append((fold, {i.id for i in train}))
        return assistant

    groups = item_sources(items, None, assistant.searcher.chunks)
    record = evaluate_folds(trained, items, 2, tmp_path / "hook", groups=groups)
    folds = assign_folds(groups, 2)
    assert [fold for fold, _ in seen] == [int(f) for f in record["folds"]]
    for fold, train in seen:
        assert train == {i.id for i in items if folds[i.id] != fold}
        held_groups = {groups[i.id] for i in items if folds[i.id] == fold}
        assert not held_groups & {groups[i] for i in train}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fold", "2", "--folds", "2"], "--fold must be between 0 and 1 (with --folds 2), got 2"),
        (["--fold", "5"], "--fold must be between 0 and 4 (with --folds 5), got 5"),
        (["--fold", "-1"], "--fold must be between 0 and 4"),
        (["--folds", "1"], "--folds must be at least 2"),
        (["--folds", "5", "--split", "tune"], "--split and --folds/--fold"),
    ],
)
def test_bad_fold_options_are_a_one_line_error(settings, tmp_path: Path, extra: list[str], message: str) -> None:
    gold = write_gold(tmp_path / "small.jsonl", [item("x")])
    result = CliRunner().invoke(app, cli_args(settings, gold, tmp_path / "none", *extra))
    assert result.exit_code == EXIT_INPUT, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output and not (tmp_path / "none").exists()
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1


def test_two_gold_files_with_one_id_are_an_error(settings, tmp_path: Path) -> None:
    first = write_gold(tmp_path / "first.jsonl", [item("same"), item("a")])
    second = write_gold(tmp_path / "second.jsonl", [item("b"), item("same")])
    args = cli_args(settings, first, tmp_path / "none", "--gold", str(second), "--folds", "2")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_INPUT
    assert "'same' occurs in both" in " ".join(result.output.split())
