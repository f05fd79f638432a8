"""The evaluation: metric functions on hand-made inputs, the thresholds file, and a real run on a subset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.answer import Answer, Flag, FlagCode, Guardrail, Quote, Severity
from assistant.evaluation.gold import GoldItem, load_gold
from assistant.evaluation.metrics import (
    METRIC_NAMES,
    PRIMARY_METRIC,
    RANX_METRICS,
    SourceReader,
    abstention_scores,
    citation_scores,
    corpus_dose_keys,
    evidence_recall,
    expected_flag_raised,
    fact_recall,
    false_not_specified,
    forbidden_dose_problems,
    quote_fidelity,
    retrieval_scores,
    unsupported_doses,
)
from assistant.evaluation.report import answer_table, render_report, system_table
from assistant.evaluation.runner import evaluate
from assistant.evaluation.thresholds import (
    DEFAULT_THRESHOLDS,
    Thresholds,
    check_thresholds,
    gate_summary,
    load_thresholds,
    not_measured,
)

ROOT = Path(__file__).resolve().parent.parent
GOLD_PATH = ROOT / "evals" / "gold.jsonl"
CORPUS_FILE = "ivig-in-aiha.txt"
IVIG_STATEMENT = "The typical IVIG dosing when used is 1 g/kg as a single dose, which may be repeated if necessary."
RTX_BULLET = "Rituximab (375 mg/m² weekly × 4 doses)"


def quote_of(text: str, raw: str, citations: list[str] | None = None, context: str | None = None) -> Quote:
    start = raw.index(text)
    return Quote(
        text=text,
        citations=citations or [],
        source=CORPUS_FILE,
        start=start,
        end=start + len(text),
        chunk_id="c",
        context=context,
    )


def answer_with(quotes: list[Quote], markdown: str | None = None, flags: list[Flag] | None = None) -> Answer:
    body = (
        markdown
        if markdown is not None
        else "The guideline says (quoted verbatim):\n\n" + "\n\n".join(f"> {q.text}" for q in quotes)
    )
    return Answer(
        question="q",
        abstained=not quotes and markdown is None,
        answer=body,
        quotes=quotes,
        citations=sorted({c for q in quotes for c in q.citations}),
        guardrail=Guardrail(flags=flags or []),
    )


ABSTAINED = Answer(question="q", abstained=True, answer="The guideline text does not address this question.")


# --------------------------------------------------------------------------- retrieval metrics


RELEVANT = {"q1": {"a"}, "q2": {"b", "c"}, "q3": {"d"}}


@pytest.mark.parametrize(
    ("ranked", "expected", "message"),
    [
        ({"q1": ["a"], "q2": ["b", "c"], "q3": ["d"]}, 1.0, "a perfect ranking scores 1.0 everywhere"),
        ({}, 0.0, "a system returning nothing scores 0.0 everywhere"),
        ({"q1": ["x"], "q2": ["y", "z"], "q3": ["w"]}, 0.0, "only irrelevant passages score 0.0"),
    ],
)
def test_retrieval_scores_bounds(ranked: dict[str, list[str]], expected: float, message: str) -> None:
    scores = retrieval_scores(RELEVANT, ranked, k=5)
    assert set(scores) == set(RANX_METRICS)
    assert all(value == pytest.approx(expected) for value in scores.values()), message


def test_retrieval_scores_rank_order_is_the_systems_own() -> None:
    scores = retrieval_scores({"q": {"a"}}, {"q": ["x", "a"]}, k=5)
    assert scores["hit_rate@1"] == 0.0
    assert scores["hit_rate@3"] == 1.0
    assert scores["mrr"] == pytest.approx(0.5)


def test_retrieval_scores_cut_at_k() -> None:
    assert retrieval_scores({"q": {"a"}}, {"q": ["x", "y", "a"]}, k=2)["recall@k"] == 0.0


@pytest.mark.parametrize(
    ("returned", "expected"),
    [
        ({"q1": ["... 1 g/kg as a single dose ..."], "q2": ["prednisone 1 mg/kg/day here"]}, 1.0),
        ({}, 0.0),
        ({"q1": ["1 g/kg as a single dose"]}, 0.5),
        ({"q1": ["1   G/KG as a single   dose"]}, 0.5),  # normalized comparison
    ],
)
def test_evidence_recall(returned: dict[str, list[str]], expected: float) -> None:
    evidence = {"q1": ["1 g/kg as a single dose"], "q2": ["prednisone 1 mg/kg/day"]}
    assert evidence_recall(evidence, returned) == pytest.approx(expected)


# --------------------------------------------------------------------------- answer metrics


def gold(id: str, question: str | None = None, **fields: object) -> GoldItem:
    return GoldItem(id=id, question=question or f"question {id}", **fields)  # type: ignore[arg-type]


def test_fact_and_citation_metrics_perfect_and_empty(guideline_text: str) -> None:
    items = [gold("a", facts=["1 g/kg", "single dose"], citations=["1"], evidence=["1 g/kg as a single dose"])]
    perfect = {"a": answer_with([quote_of(IVIG_STATEMENT, guideline_text, ["1"])])}
    nothing = {"a": ABSTAINED}
    assert fact_recall(items, perfect) == 1.0
    assert citation_scores(items, perfect) == (1.0, 1.0)
    assert fact_recall(items, nothing) == 0.0
    assert citation_scores(items, nothing) == (0.0, None), "labels expected, none given: recall 0, precision n/a"


def test_citation_precision_counts_extra_labels(guideline_text: str) -> None:
    items = [gold("a", facts=["1 g/kg"], citations=["1"])]
    answers = {
        "a": answer_with(
            [quote_of(IVIG_STATEMENT, guideline_text, ["1"]), quote_of(RTX_BULLET, guideline_text, ["6", "4"])]
        )
    }
    assert citation_scores(items, answers) == (1.0, pytest.approx(1 / 3))


def test_facts_are_found_in_a_bullets_lead_in(guideline_text: str) -> None:
    lead = "For corticosteroid-refractory or relapsed AIHA, the preferred sequence is:"
    quote = quote_of(RTX_BULLET, guideline_text, ["6", "4"], context=lead)
    assert fact_recall([gold("a", facts=["relapsed AIHA", "375 mg/m2"])], {"a": answer_with([quote])}) == 1.0


@pytest.mark.parametrize(
    ("abstains", "expected", "message"),
    [
        ({"in": False, "out": True}, (1.0, 1.0), "abstains exactly on the unanswerable question"),
        ({"in": True, "out": True}, (0.5, 1.0), "abstaining on everything keeps recall, halves precision"),
        ({"in": False, "out": False}, (None, 0.0), "never abstaining: precision n/a, nothing caught"),
    ],
)
def test_abstention_scores(
    abstains: dict[str, bool], expected: tuple[float, float], message: str, guideline_text: str
) -> None:
    items = [gold("in", facts=["1 g/kg"]), gold("out", abstain=True)]
    answers = {
        id: ABSTAINED if abstain else answer_with([quote_of(IVIG_STATEMENT, guideline_text)])
        for id, abstain in abstains.items()
    }
    assert abstention_scores(items, answers) == expected, message


# --------------------------------------------------------------------------- quote fidelity


def test_quote_fidelity_is_one_for_true_offsets_and_detects_a_tampered_one(
    guideline_text: str, session_dirs: tuple[Path, Path]
) -> None:
    reader = SourceReader(session_dirs[0])
    good = quote_of(IVIG_STATEMENT, guideline_text, ["1"])
    assert quote_fidelity([answer_with([good])], reader) == (1.0, 1)
    shifted = good.model_copy(update={"start": good.start + 1, "end": good.end + 1})
    assert quote_fidelity([answer_with([good, shifted])], reader) == (0.5, 2)
    edited = good.model_copy(update={"text": good.text.replace("1 g/kg", "2 g/kg")})
    assert quote_fidelity([answer_with([edited])], reader)[0] == 0.0
    elsewhere = good.model_copy(update={"source": "../outside.txt"})
    assert quote_fidelity([answer_with([elsewhere])], reader)[0] == 0.0
    assert quote_fidelity([ABSTAINED], reader) == (None, 0), "nothing quoted: fidelity n/a"


# --------------------------------------------------------------------------- dose safety


@pytest.fixture(scope="module")
def corpus_keys(guideline_text: str):
    from assistant.ingest.parser import parse_document

    document = parse_document(guideline_text, CORPUS_FILE)
    return corpus_dose_keys((s.text, s.lead_in) for s in document.statements)


def test_quoted_corpus_doses_are_supported(corpus_keys, guideline_text: str) -> None:
    answer = answer_with([quote_of(IVIG_STATEMENT, guideline_text, ["1"]), quote_of(RTX_BULLET, guideline_text)])
    assert unsupported_doses(answer, corpus_keys) == []


@pytest.mark.parametrize(
    ("summary", "message"),
    [
        ("Give IVIG 2 g/kg.", "a wrong amount"),
        ("Give IVIG 1 g/kg daily.", "the right amount at a wrong frequency"),
        ("Give rituximab 375 mg/kg weekly.", "a wrong basis"),
    ],
)
def test_a_dose_absent_from_the_corpus_is_found(corpus_keys, guideline_text: str, summary: str, message: str) -> None:
    quote = quote_of(IVIG_STATEMENT, guideline_text, ["1"])
    answer = answer_with([quote], markdown=f"{summary}\n\n> {quote.text}")
    assert unsupported_doses(answer, corpus_keys), message


def test_calculated_amount_is_exempt_only_when_its_source_dose_is_in_the_corpus(
    corpus_keys, guideline_text: str
) -> None:
    quote = quote_of(IVIG_STATEMENT, guideline_text, ["1"])
    note = "Calculated for this patient: 1 g/kg × 70 kg = 70 g."
    calc = Flag(code=FlagCode.CALCULATION, severity=Severity.INFO, message=note, text="1 g/kg as a single dose")
    assert unsupported_doses(answer_with([quote], f"{note}\n\n> {quote.text}", [calc]), corpus_keys) == []
    forged = calc.model_copy(update={"text": "3 g/kg"})
    assert unsupported_doses(answer_with([quote], f"{note}\n\n> {quote.text}", [forged]), corpus_keys) == ["70 g"]


def test_expected_flag_raised_matches_the_questions_dose() -> None:
    item = gold("w", "Is IVIG 2 g/kg right?", flag_dose="2 g/kg", facts=["1 g/kg"])
    flagged = Flag(code=FlagCode.DOSE_MISMATCH, severity=Severity.WARN, message="m", text="2 g/kg daily")
    other = Flag(code=FlagCode.DOSE_MISMATCH, severity=Severity.WARN, message="m", text="5 g/kg")
    note = Flag(code=FlagCode.DOSE_NOT_SPECIFIED, severity=Severity.WARN, message="m", text="2 g/kg")
    assert expected_flag_raised(item, answer_with([], "x", [flagged]))
    assert not expected_flag_raised(item, answer_with([], "x", [other]))
    assert not expected_flag_raised(item, answer_with([], "x", [note])), "only dose-check codes count"


def test_forbidden_doses(guideline_text: str) -> None:
    aza = "Immunosuppressive drugs (azathioprine, cyclophosphamide, cyclosporine, mycophenolate mofetil)"
    quotes = [quote_of(aza, guideline_text, ["3", "4"]), quote_of(RTX_BULLET, guideline_text, ["6", "4"])]
    question = "How much mycophenolate mofetil for warm AIHA after rituximab fails?"
    clean = answer_with(quotes)
    assert forbidden_dose_problems(question, clean, ["mycophenolate mofetil"]) == [], "rituximab is not the asked drug"
    assert forbidden_dose_problems(question, clean, []), "without facts every named drug counts"
    stated = answer_with(quotes, "Use mycophenolate 1 g twice daily.\n\n" + clean.answer)
    assert forbidden_dose_problems(question, stated, ["mycophenolate mofetil"])


NOT_SPECIFIED = Flag(code=FlagCode.DOSE_NOT_SPECIFIED, severity=Severity.WARN, message="no dose given", text="IVIG")
MISMATCH = Flag(code=FlagCode.DOSE_MISMATCH, severity=Severity.WARN, message="m", text="2 g/kg")


@pytest.mark.parametrize(
    ("fields", "flags", "expected", "message"),
    [
        ({"facts": ["1 g/kg"]}, [NOT_SPECIFIED], True, "a dose in the facts and 'no dose given': counted"),
        ({"facts": ["375 mg/m²", "weekly"]}, [MISMATCH, NOT_SPECIFIED], True, "any dose-like fact counts"),
        ({"facts": ["1 g/kg"]}, [], False, "no flag: nothing wrong"),
        ({"facts": ["1 g/kg"]}, [MISMATCH], False, "only dose_not_specified counts"),
        ({"facts": ["azathioprine"]}, [NOT_SPECIFIED], False, "no dose in the facts: the flag is right"),
        ({"facts": ["70-85%"]}, [NOT_SPECIFIED], False, "a percentage is not a dose"),
        ({"abstain": True}, [NOT_SPECIFIED], False, "abstain items are not answerable"),
    ],
)
def test_false_not_specified(fields: dict[str, object], flags: list[Flag], expected: bool, message: str) -> None:
    item = gold("d", "What IVIG dose is used in warm AIHA?", **fields)
    assert false_not_specified(item, answer_with([], "x", flags)) is expected, message


# --------------------------------------------------------------------------- n/a: nothing to measure


NO_LABELS = [gold("a", facts=["1 g/kg"], evidence=["1 g/kg as a single dose"], tags=["terse"])]


@pytest.mark.parametrize(
    ("metric", "items", "answers", "expected"),
    [
        (citation_scores, NO_LABELS, {"a": None}, (None, None)),
        (abstention_scores, NO_LABELS, {"a": None}, (None, None)),
        (fact_recall, [gold("a", evidence=["1 g/kg as a single dose"])], {"a": None}, None),
    ],
    ids=["citations-without-labels", "abstention-nothing-abstained-nothing-to-abstain", "facts-without-facts"],
)
def test_a_metric_with_nothing_to_measure_is_none(
    metric: object, items: list[GoldItem], answers: dict[str, None], expected: object, guideline_text: str
) -> None:
    answered = {qid: answer_with([quote_of(IVIG_STATEMENT, guideline_text, ["1"])]) for qid in answers}
    assert metric(items, answered) == expected  # type: ignore[operator]


def test_retrieval_scores_without_evidence_are_none() -> None:
    assert retrieval_scores({"q": set()}, {"q": ["a"]}, k=5) == {name: None for name in RANX_METRICS}
    assert evidence_recall({}, {"q": ["text"]}) is None


NA_METRICS: dict[str, float | None] = {
    "answer.fact_recall": 0.9,
    "citations.recall": None,
    "citations.precision": None,
    "dose.forbidden_violations": None,
    "dose.unsupported_answers": 0.0,
    "retrieval.hit_rate@1": None,
    "retrieval.evidence_recall": 0.8,
}


@pytest.mark.parametrize(
    ("gates", "failures", "unmeasured"),
    [
        (Thresholds(minimum={"citations.recall": 0.94}), [], ["citations.recall"]),
        (Thresholds(maximum={"dose.forbidden_violations": 0}), [], ["dose.forbidden_violations"]),
        (
            Thresholds(minimum={"answer.fact_recall": 0.95, "citations.precision": 0.7}),
            ["answer.fact_recall"],
            ["citations.precision"],
        ),
        (Thresholds(minimum={"abstention.recall": 0.9}), ["abstention.recall"], []),
        (Thresholds(maximum={"dose.unsupported_answers": 0}), [], []),
    ],
    ids=["na-minimum", "na-maximum", "na-beside-a-real-failure", "missing-still-fails", "measured-passes"],
)
def test_an_na_gate_is_reported_but_does_not_fail(
    gates: Thresholds, failures: list[str], unmeasured: list[str]
) -> None:
    failed = check_thresholds(NA_METRICS, gates)
    assert [line.split(" ")[0].rstrip(":") for line in failed] == failures
    assert not_measured(NA_METRICS, gates) == [f"{name}: n/a (nothing to measure)" for name in unmeasured]
    summary = gate_summary(NA_METRICS, gates)
    assert all(name in summary for name in unmeasured) and ("n/a" in summary) == bool(unmeasured)


def test_reports_render_na_not_zero() -> None:
    table = answer_table(NA_METRICS)
    assert "| Citation recall | n/a |" in table and "| Citation precision | n/a |" in table
    assert "| Forbidden-dose violations (must be 0) | n/a |" in table
    assert "| Answers stating a dose absent from the corpus (must be 0) | 0 |" in table
    retrieval_row = next(line for line in system_table(NA_METRICS).splitlines() if "Assistant retrieval" in line)
    cells = [cell.strip() for cell in retrieval_row.split("|")[2:-1]]
    assert cells[0] == "0.800" and cells[1] == "n/a" and cells[2] == "—", "computed-but-empty is n/a, absent is —"
    config = {"k": 5, "gold_items": 1, "model": "m", "chunks": 1, "corpus_chars": 10, "created_at": "now"}
    report = render_report(
        {**NA_METRICS, "answer.fact_recall": None}, [], {}, config, [], [], ["citations.recall: n/a"]
    )
    assert "`answer.fact_recall` = **n/a**" in report and "- citations.recall: n/a" in report


# --------------------------------------------------------------------------- thresholds


def test_the_bundled_thresholds_file_validates() -> None:
    thresholds = load_thresholds(DEFAULT_THRESHOLDS)
    assert thresholds.minimum["quotes.fidelity"] == 1.0
    assert thresholds.maximum["dose.unsupported_answers"] == 0
    assert thresholds.maximum["dose.forbidden_violations"] == 0
    assert "dose.false_not_specified" in thresholds.maximum
    assert set(thresholds.minimum) | set(thresholds.maximum) <= METRIC_NAMES


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[minimum]\n"answer.fact_recal" = 0.9\n', "answer.fact_recal"),
        ('[minimums]\n"answer.fact_recall" = 0.9\n', "minimums"),
        ('[minimum]\n"answer.fact_recall" = "high"\n', "answer.fact_recall"),
        ("[minimum\n", "not valid TOML"),
    ],
)
def test_a_bad_thresholds_file_is_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_thresholds(path)


def test_check_thresholds() -> None:
    gates = Thresholds(minimum={"answer.fact_recall": 0.9}, maximum={"dose.unsupported_answers": 0})
    assert check_thresholds({"answer.fact_recall": 0.95, "dose.unsupported_answers": 0.0}, gates) == []
    failures = check_thresholds({"answer.fact_recall": 0.5, "dose.unsupported_answers": 1.0}, gates)
    assert len(failures) == 2 and "below the minimum" in failures[0] and "above the maximum" in failures[1]
    assert "not computed" in check_thresholds({}, gates)[0]
    assert check_thresholds({"answer.fact_recall": float("nan"), "dose.unsupported_answers": 0.0}, gates)


# --------------------------------------------------------------------------- a real run


def subset(count: int = 8, abstain: int = 2) -> list[GoldItem]:
    items = load_gold(GOLD_PATH)
    answerable = [item for item in items if not item.abstain]
    # A spread of tags: every 15th answerable item, plus a wrong-dose and a no-dose item.
    chosen = answerable[::15][: count - 2]
    chosen += [next(i for i in answerable if i.flag_dose), next(i for i in answerable if i.forbidden_doses)]
    return chosen + [item for item in items if item.abstain][:abstain]


@pytest.fixture(scope="module")
def evaluation(assistant, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("eval-run")
    metrics = evaluate(assistant, subset(), out, baselines=True, thresholds=load_thresholds())
    return metrics, out


def test_evaluate_writes_the_four_files(evaluation) -> None:
    metrics, out = evaluation
    for name in ("answers.jsonl", "metrics.json", "report.md", "report.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    lines = (out / "answers.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [item.id for item in subset()]
    assert all(Answer.model_validate({k: v for k, v in r.items() if k != "id"}) for r in records)
    stored = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert stored["primary_metric"] == PRIMARY_METRIC and stored["metrics"] == metrics
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "LangChain recipe" in report and "## Failures" in report


def test_evaluate_metrics_are_named_and_bounded(evaluation) -> None:
    metrics, _ = evaluation
    assert METRIC_NAMES <= set(metrics), sorted(METRIC_NAMES - set(metrics))
    for system in ("langchain_recipe", "bm25_only", "dense_only"):
        assert 0.0 <= metrics[f"baseline.{system}.evidence_recall"] <= 1.0
    assert metrics[PRIMARY_METRIC] == metrics["answer.fact_recall"]
    assert metrics["quotes.fidelity"] == 1.0
    assert metrics["dose.unsupported_answers"] == 0
    assert metrics["gold.items"] == len(subset())
    # The recipe hands the reader far more text than the assistant quotes.
    assert metrics["baseline.langchain_recipe.chars_mean"] > 3 * metrics["answer.chars_quoted_mean"]


def test_eval_command_gates_on_the_thresholds(settings, tmp_path: Path) -> None:
    from assistant.cli import app

    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("".join(item.model_dump_json() + "\n" for item in subset(4, 1)), encoding="utf-8")
    lenient = tmp_path / "lenient.toml"
    lenient.write_text('[minimum]\n"quotes.fidelity" = 1.0\n', encoding="utf-8")
    impossible = tmp_path / "impossible.toml"
    impossible.write_text('[minimum]\n"answer.fact_recall" = 1.01\n', encoding="utf-8")
    common = [
        "eval",
        "--gold",
        str(gold_file),
        "--corpus",
        str(settings.corpus_dir),
        "--index",
        str(settings.index_dir),
    ]
    runner = CliRunner()
    passed = runner.invoke(app, [*common, "--out", str(tmp_path / "ok"), "--thresholds", str(lenient)])
    assert passed.exit_code == 0, passed.output
    assert (tmp_path / "ok" / "metrics.json").is_file()
    failed = runner.invoke(app, [*common, "--out", str(tmp_path / "bad"), "--thresholds", str(impossible)])
    assert failed.exit_code == 1, failed.output
    assert "answer.fact_recall" in failed.output
    bad_gold = tmp_path / "bad.jsonl"
    bad_gold.write_text('{"id": "x", "question": "q", "factz": []}\n', encoding="utf-8")
    rejected = runner.invoke(app, [*common, "--gold", str(bad_gold), "--out", str(tmp_path / "none")])
    assert rejected.exit_code == 2 and not (tmp_path / "none").exists()


# --------------------------------------------------------------------------- a user's own gold file


USER_GOLD = [
    gold(
        "u-1",
        "What IVIG dose is used in warm AIHA?",
        facts=["1 g/kg"],
        evidence=["1 g/kg as a single dose"],
        tags=["terse", "my-dose"],
    ),
    gold(
        "u-2",
        "How effective is rituximab in relapsed AIHA?",
        facts=["70-90%"],
        evidence=["effective in 70-90% of cases"],
        tags=["cross-doc"],
    ),
]
NOTHING_TO_MEASURE = (
    "citations.recall",
    "citations.precision",
    "abstention.recall",
    "dose.expected_flags_raised",
    "dose.forbidden_violations",
)


@pytest.fixture(scope="module")
def user_run(assistant, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("user-gold")
    return evaluate(assistant, USER_GOLD, out, thresholds=load_thresholds()), out


def test_a_user_gold_file_with_its_own_tags_and_no_labels_reports_na(user_run) -> None:
    metrics, out = user_run
    for name in NOTHING_TO_MEASURE:
        assert metrics[name] is None, f"{name} has nothing to measure here, got {metrics[name]}"
    assert metrics["dose.false_not_specified"] is not None, "u-1's facts quote a dose: measured"
    stored = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert stored["metrics"]["citations.recall"] is None
    assert not any(name in line for line in stored["threshold_failures"] for name in NOTHING_TO_MEASURE)
    assert {"citations.recall: n/a (nothing to measure)", "abstention.recall: n/a (nothing to measure)"} <= set(
        stored["threshold_not_measured"]
    )
    report = (out / "report.md").read_text(encoding="utf-8")
    for tag in ("terse", "my-dose", "cross-doc"):
        assert f"| {tag} | 1 |" in report, f"no by-tag row for {tag}"
    assert "| Citation recall | n/a |" in report


def test_eval_command_prints_na_and_does_not_fail_an_na_gate(settings, tmp_path: Path) -> None:
    from assistant.cli import app

    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text("".join(item.model_dump_json() + "\n" for item in USER_GOLD), encoding="utf-8")
    gates = tmp_path / "gates.toml"
    gates.write_text('[minimum]\n"citations.recall" = 0.9\n"quotes.fidelity" = 1.0\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            "--gold",
            str(gold_file),
            "--corpus",
            str(settings.corpus_dir),
            "--index",
            str(settings.index_dir),
            "--out",
            str(tmp_path / "run"),
            "--thresholds",
            str(gates),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "n/a" in result.output and "citations.recall" in result.output
    assert "n/a (nothing to measure)" in " ".join(result.output.split())
