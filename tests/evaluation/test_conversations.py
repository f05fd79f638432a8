"""The conversation evaluation: the file format, each expectation on hand-made answers, and real runs.

The bundled file (evals/conversations.jsonl) is asked through the real chain over the bundled
guideline; the library file (evals/conversations-library.jsonl) over a small multi-guideline
corpus written here. Each run prints its pass rates, and asserts a floor measured on the
current code minus a small margin, plus that the conversations known to pass still pass.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant import Assistant
from assistant.answer import Answer, Flag, FlagCode, Guardrail, Quote, Severity
from assistant.evaluation.conversations import (
    ConversationScore,
    TurnExpect,
    load_conversations,
    render_conversation_report,
    score_conversations,
    turn_problems,
)
from assistant.evaluation.gold import normalize_fact

ROOT = Path(__file__).resolve().parents[2]
BUNDLED_FILE = ROOT / "evals" / "conversations.jsonl"
LIBRARY_FILE = ROOT / "evals" / "conversations-library.jsonl"
AIHA = (ROOT / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")

# The generated library: four short guidelines written for this test (general clinical
# wording, not copied from any source), sharing drugs (amoxicillin, clarithromycin) and
# populations (children, pregnancy, renal impairment) so that follow-ups must keep their guideline.
LIBRARY = {
    "sinusitis.md": """# Acute sinusitis: antimicrobial prescribing

## Who needs an antibiotic

Most adults with acute sinusitis do not need an antibiotic, because symptoms usually resolve within 2 to 3 weeks.

Consider an antibiotic for adults whose symptoms have lasted more than 10 days without improvement.

## Choice of antibiotic

Offer amoxicillin 500 mg three times a day for 5 days to adults with acute sinusitis who need an antibiotic.

For adults with penicillin allergy, offer doxycycline 200 mg on the first day, then 100 mg once a day for 4 days.

## Children

For children with acute sinusitis, offer amoxicillin 40 mg/kg per day in 3 divided doses for 5 days.

Do not offer doxycycline to children under 12 years.

## Self-care

Paracetamol or ibuprofen can be used for pain or fever.
""",
    "pneumonia.md": """# Community-acquired pneumonia in adults

## Assessing severity

Use the CURB-65 score to assess the severity of community-acquired pneumonia in adults.

## Antibiotic therapy

Offer amoxicillin 1 g three times a day for 5 days to adults with moderate-severity community-acquired pneumonia.

Offer clarithromycin 500 mg twice a day for 5 days to adults who are allergic to penicillin.

For high-severity pneumonia, offer co-amoxiclav 1.2 g intravenously every 8 hours plus clarithromycin 500 mg intravenously twice a day.

## Duration and review

Stop antibiotics after 5 days unless microbiological results suggest a longer course is needed.

Review the patient if symptoms have not improved within 3 days.

## Renal impairment

Reduce the co-amoxiclav dose when creatinine clearance is below 30 mL/min.
""",
    "gout.md": """# Gout: diagnosis and management

## Treating a flare

Offer a non-steroidal anti-inflammatory drug, such as naproxen 500 mg twice a day, or colchicine to treat a gout flare.

Colchicine 500 micrograms two to four times a day can be used for up to 4 days.

Consider a short course of oral prednisolone 30 mg once a day for 5 days if NSAIDs and colchicine are contraindicated.

## Long-term urate-lowering therapy

Offer allopurinol as first-line urate-lowering therapy, starting at 100 mg once a day and increasing by 100 mg every 4 weeks.

Aim for a serum urate level below 360 micromol/L.

Febuxostat is an alternative when allopurinol is not tolerated.

## Lifestyle

Advise people with gout to limit alcohol and to keep to a healthy weight.
""",
    "hypertension-in-pregnancy.md": """# Hypertension in pregnancy

## Treatment

Offer labetalol to treat hypertension in pregnancy, starting at 100 mg twice a day.

Consider nifedipine if labetalol is not suitable.

Do not use ACE inhibitors or angiotensin receptor blockers in pregnancy.

## Target blood pressure

Aim for a blood pressure of 135/85 mmHg or lower.

## After the birth

Enalapril can be used after the birth, including in women who are breastfeeding.
""",
}

# Measured on the current code: bundled 50 of 53 turns (0.943), 26 of 28 follow-up turns (0.929);
# library 26 of 31 turns (0.839), 12 of 17 follow-up turns (0.706). The floors sit two turns
# below, so a regression fails while an unrelated one-turn wobble does not.
BUNDLED_FLOOR = {"conversations.turn_pass_rate": 0.90, "conversations.follow_up_pass_rate": 0.85}
LIBRARY_FLOOR = {"conversations.turn_pass_rate": 0.77, "conversations.follow_up_pass_rate": 0.58}
# Conversations that exercise the core mechanism and pass today: each must keep passing.
BUNDLED_KNOWN_GOOD = (
    "ivig-dose-then-repeat",
    "first-line-then-prednisone-dose-then-taper",
    "rituximab-efficacy-then-dose",
    "methylprednisolone-then-days",
    "supportive-then-anticoagulation-then-epo",
    "ivig-then-standalone-second-line",
    "rituximab-dose-then-bortezomib",
)
LIBRARY_KNOWN_GOOD = (
    "sinusitis-amoxicillin-then-children",
    "gout-flare-then-colchicine-then-days",
    "urate-lowering-then-dose-then-target",
    "pregnancy-hypertension-then-dose-then-postnatal",
    "sinusitis-then-standalone-gout",
    "clarithromycin-then-duration",
)


# --------------------------------------------------------------------------- the file format


GOOD_TURNS = [{"question": "What IVIG dose?", "expect": {"facts": ["1 g/kg"]}}, {"question": "and in children?"}]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "a", "turns": GOOD_TURNS[:1]}, "turns"),
        ({"id": "a", "turns": [GOOD_TURNS[0], {"question": "q", "expect": {"fact": ["x"]}}]}, "fact"),
        ({"id": "a", "turns": [GOOD_TURNS[0], {"question": "q", "expect": {"flags": ["no_dose"]}}]}, "unknown flag"),
        ({"id": "a", "turns": [GOOD_TURNS[0], {"question": "q", "expect": {"facts": [" "]}}]}, "empty"),
        ({"id": "a", "turns": [GOOD_TURNS[0], {"question": ""}]}, "question"),
        ({"id": "a", "turns": GOOD_TURNS, "tags": ["Follow Up"]}, "tag"),
        ({"id": "first", "turns": GOOD_TURNS}, "duplicate id"),
    ],
)
def test_a_bad_conversation_line_is_rejected_with_its_line_number(
    tmp_path: Path, record: dict[str, object], message: str
) -> None:
    path = tmp_path / "conversations.jsonl"
    path.write_text(json.dumps({"id": "first", "turns": GOOD_TURNS}) + "\n\n" + json.dumps(record) + "\n")
    with pytest.raises(ValueError, match=message) as raised:
        load_conversations(path)
    assert f"{path}:3" in str(raised.value)


@pytest.mark.parametrize(
    ("path", "corpus"),
    [(BUNDLED_FILE, {"ivig-in-aiha.txt": AIHA}), (LIBRARY_FILE, LIBRARY)],
    ids=["bundled", "library"],
)
def test_the_conversation_files_are_anchored_in_their_corpus(path: Path, corpus: dict[str, str]) -> None:
    """At least 2 turns each, every expected fact in the corpus, every expected source a real file."""
    cases = load_conversations(path)
    everything = normalize_fact(" ".join(corpus.values()))
    for case in cases:
        assert 2 <= len(case.turns) <= 3, case.id
        for turn in case.turns:
            for fact in turn.expect.facts:
                assert normalize_fact(fact) in everything, f"{case.id}: {fact!r} is not in the corpus"
            assert turn.expect.source in (None, *corpus), f"{case.id}: unknown source {turn.expect.source}"
            assert not (turn.expect.abstain and turn.expect.facts), f"{case.id}: an abstain turn has no facts"


def test_there_are_at_least_30_conversations_with_follow_ups() -> None:
    cases = load_conversations(BUNDLED_FILE) + load_conversations(LIBRARY_FILE)
    assert len(cases) >= 30
    assert sum(any(t.expect.asked_as_contains for t in case.turns) for case in cases) >= 25


# --------------------------------------------------------------------------- one turn on hand-made answers


RTX = "Rituximab (375 mg/m² weekly × 4 doses)"


def answer(
    *,
    quoted: str | None = RTX,
    source: str = "ivig-in-aiha.txt",
    asked_as: str | None = "What IVIG dose is used in warm AIHA: what about rituximab?",
    flags: tuple[FlagCode, ...] = (),
    notes: tuple[str, ...] = (),
) -> Answer:
    quotes = []
    if quoted is not None:
        start = AIHA.index(quoted)
        quotes = [Quote(text=quoted, source=source, start=start, end=start + len(quoted), chunk_id="c")]
    return Answer(
        question="q",
        abstained=quoted is None,
        asked_as=asked_as,
        lead="The guideline says (quoted verbatim):" if quoted else "The guideline text does not address this.",
        notes=list(notes),
        quotes=quotes,
        guardrail=Guardrail(flags=[Flag(code=code, severity=Severity.WARN, message="m") for code in flags]),
    )


@pytest.mark.parametrize(
    ("expect", "given", "problem"),
    [
        ({"facts": ["375 mg/m2"], "asked_as_contains": ["rituximab"]}, answer(), None),
        ({"facts": ["1 g/kg"]}, answer(), "facts not quoted"),
        ({"abstain": False}, answer(quoted=None), "abstained"),
        ({"abstain": True}, answer(), "should abstain"),
        ({"asked_as_contains": ["rituximab"]}, answer(asked_as=None), "not understood as a follow-up"),
        ({"asked_as_contains": ["children"]}, answer(), "lacks ['children']"),
        ({"rewritten": False}, answer(), "names its own subject"),
        ({"rewritten": True}, answer(asked_as=None), "expected a follow-up rewrite"),
        ({"source": "other.md"}, answer(), "expected only other.md"),
        ({"flags": ["dose_not_specified"]}, answer(), "flags not raised"),
        ({"not_flags": ["dose_not_specified"]}, answer(flags=(FlagCode.DOSE_NOT_SPECIFIED,)), "must not be"),
        ({"not_addressed": ["pregnan"]}, answer(), "does not address ['pregnan']"),
        ({"not_addressed": ["pregnan"]}, answer(notes=("Nothing here concerns pregnancy.",)), None),
        ({"not_addressed": ["pregnan"]}, answer(quoted=None), None),
    ],
)
def test_each_expectation_is_checked(expect: dict[str, object], given: Answer, problem: str | None) -> None:
    problems = turn_problems(TurnExpect.model_validate(expect), given)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in line for line in problems), problems


# --------------------------------------------------------------------------- real runs


def _check(score: ConversationScore, floor: dict[str, float], known_good: tuple[str, ...], name: str) -> None:
    metrics = score.metrics()
    print(f"\n{name}: " + ", ".join(f"{key} = {value}" for key, value in metrics.items()))
    print(render_conversation_report(score))
    assert metrics["conversations.turns"] == len(score.results) > 0
    for key, minimum in floor.items():
        value = metrics[key]
        assert value is not None and value >= minimum, f"{key} = {value}, floor {minimum}"
    failed = {result.conversation for result in score.failures}
    assert not failed & set(known_good), f"known-good conversations now fail: {sorted(failed & set(known_good))}"


def test_bundled_conversations(assistant: Assistant) -> None:
    score = score_conversations(assistant, BUNDLED_FILE)
    assert len({r.conversation for r in score.results}) == len(load_conversations(BUNDLED_FILE))
    _check(score, BUNDLED_FLOOR, BUNDLED_KNOWN_GOOD, "bundled")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("conversation-library")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in LIBRARY.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.load(corpus, root / "index")


def test_library_conversations(library: Assistant) -> None:
    _check(score_conversations(library, LIBRARY_FILE), LIBRARY_FLOOR, LIBRARY_KNOWN_GOOD, "library")


def test_the_expectations_catch_a_follow_up_asked_without_its_conversation(assistant: Assistant) -> None:
    """Every known-good follow-up turn, asked alone (no conversation), must fail its expectations.

    This is what the scorer would see if the follow-up mechanism broke: it would not pass it.
    """
    cases = [case for case in load_conversations(BUNDLED_FILE) if case.id in BUNDLED_KNOWN_GOOD]
    follow_ups = [turn for case in cases for turn in case.turns[1:] if turn.expect.asked_as_contains]
    assert len(follow_ups) >= 5
    for turn in follow_ups:
        assert turn_problems(turn.expect, assistant.ask(turn.question)), f"{turn.question!r} passed on its own"


def test_eval_conversations_command(settings, tmp_path: Path) -> None:
    from assistant.cli import app

    small = tmp_path / "small.jsonl"
    lines = BUNDLED_FILE.read_text(encoding="utf-8").splitlines()
    small.write_text("\n".join(line for line in lines if '"ivig-dose-then-repeat"' in line) + "\n", encoding="utf-8")
    common = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    ran = CliRunner().invoke(app, ["eval-conversations", str(small), *common, "--out", str(tmp_path / "r.md")])
    assert ran.exit_code == 0, ran.output
    assert "conversations.turn_pass_rate | 1" in ran.output and (tmp_path / "r.md").is_file()
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "turns": []}\n', encoding="utf-8")
    assert CliRunner().invoke(app, ["eval-conversations", str(bad), *common]).exit_code == 2
