"""The regimen probe generator: probes from a real built index, each class with the risk fixed in advance."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from guideline_quotes import IVIG, MP, PRED, RTX
from regimen_cases import CEFTRI

from assistant.answer import Quote, Risk
from assistant.errors import CorpusError
from assistant.evaluation.regimen_probes import (
    CLASSES,
    busiest_sources,
    dose_statements,
    probes_for,
    read_statements,
    run_probe,
    tally,
)
from assistant.guardrails.doses import parse_doses

ROOT = Path(__file__).resolve().parents[2]

# (statement, class, the question the generator must write, the risk it must expect)
EXPECTED: list[tuple[Quote, str, str, Risk | None]] = [
    (MP, "as_written", "methylprednisolone 1g IV daily for 3 days", None),
    (MP, "canonical", "methylprednisolone 1 g IV daily for 3 days", None),
    (MP, "reworded", "methylprednisolone 1000 mg IV once a day for 3 days", None),
    (MP, "tenfold", "methylprednisolone 10 g IV daily for 3 days", Risk.TENFOLD),
    (MP, "total_x2", "methylprednisolone 1 g IV daily for 6 days", Risk.OVERDOSE_TOTAL),
    (MP, "frequency", "methylprednisolone 1 g IV weekly for 3 days", Risk.FREQUENCY),
    (MP, "course", "methylprednisolone 1 g IV daily for 1 day", Risk.COURSE),
    (MP, "route", "methylprednisolone 1 g daily for 3 days orally", Risk.ROUTE),
    (IVIG, "reworded", "IVIG 1000 mg/kg once repeated if necessary", None),
    (IVIG, "total_x2", "IVIG 1 g/kg daily for 2 days", Risk.OVERDOSE_TOTAL),
    (PRED, "course", "prednisone 1 mg/kg/day for 2 years", Risk.COURSE),
    (RTX, "frequency", "Rituximab 375 mg/m2 monthly for 4 doses", Risk.FREQUENCY),
    (CEFTRI, "route", "ceftriaxone 1 g daily for 7 days IV", Risk.ROUTE),
]


def _probe(quote: Quote, kind: str):
    dose = parse_doses(quote.text, context=quote.context)[0]
    return next(probe for probe in probes_for(quote, dose) if probe.kind == kind)


@pytest.mark.parametrize(("quote", "kind", "question", "risk"), EXPECTED, ids=[f"{e[1]}: {e[2]}" for e in EXPECTED])
def test_each_class_writes_its_question_and_fixes_its_risk_before_the_guardrail_runs(
    quote: Quote, kind: str, question: str, risk: Risk | None
) -> None:
    probe = _probe(quote, kind)
    assert (probe.question, probe.expected) == (question, risk)
    assert run_probe(probe).ok, run_probe(probe).risks


def test_a_drug_with_two_doses_in_one_statement_is_never_asked_wrong() -> None:
    quote = CEFTRI.model_copy(update={"text": "Ceftriaxone 1 g daily, or ceftriaxone 2 g daily when severe."})
    kinds = {probe.kind for dose in parse_doses(quote.text) for probe in probes_for(quote, dose)}
    assert kinds == {"as_written", "canonical", "reworded"}


def test_every_probe_of_the_bundled_index_is_answered_as_expected(assistant, settings) -> None:
    pairs = dose_statements(read_statements(settings.index_dir))
    assert busiest_sources(pairs, 1) == ["ivig-in-aiha.txt"]
    outcomes = [run_probe(probe) for quote, dose in pairs for probe in probes_for(quote, dose)]
    counts = tally(outcomes)
    assert set(counts) == set(CLASSES)
    assert all(ok == total for total, ok in counts.values()), [o.probe.question for o in outcomes if not o.ok]


def test_the_script_prints_counts_per_class(assistant, settings) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "evals" / "regimen_probes.py"), str(settings.index_dir)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "tenfold" in done.stdout and "as expected (100.0%)" in done.stdout


def test_a_folder_without_an_index_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="build the index first"):
        read_statements(tmp_path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "evals" / "regimen_probes.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
