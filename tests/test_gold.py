"""The gold set is only useful if it is anchored in the guideline: these tests check that.

Every evidence string and fact must be in the bundled corpus, every citation must be
a label of the statement the evidence points at, and every statement of the
guideline must be asked about at least once.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.evaluation.gold import KNOWN_TAGS, GoldItem, load_gold, normalize_fact

ROOT = Path(__file__).resolve().parent.parent
GOLD_PATH = ROOT / "evals" / "gold.jsonl"
CORPUS_DIR = ROOT / "corpus"
CORPUS_PATH = CORPUS_DIR / "ivig-in-aiha.txt"
CORPUS = CORPUS_PATH.read_text(encoding="utf-8")
ITEMS = load_gold(GOLD_PATH)
ANSWERABLE = [item for item in ITEMS if not item.abstain]


@dataclass(frozen=True)
class SimpleStatement:
    text: str
    citations: tuple[str, ...]


# A citation run is a number list after whitespace, followed by the next sentence
# (capital letter or quote) or the end of the line. Quantities in the text ("× 4 doses",
# "1 mg/kg/day", "for 3 days)") are followed by a lower-case word or a unit, so they never match.
_CITATION_RUN = re.compile(r"\s(\d{1,2}(?:,\s*\d{1,2})*)(?=\s+[A-Z\"]|\s*$)")


def simple_statements(text: str) -> list[SimpleStatement]:
    """Split the guideline into statements without depending on ``assistant.ingest.parser``.

    Each line (bullet marker removed) is cut after every citation run; the text before
    a run is one cited statement. An uncited remainder is a statement when it ends with
    "." or ":" (an uncited sentence, or the lead-in of a bullet list); otherwise the
    line is a heading and is skipped.
    """
    statements: list[SimpleStatement] = []
    for line in text.splitlines():
        body = line.strip()
        if body.startswith("- "):
            body = body[2:]
        position = 0
        for match in _CITATION_RUN.finditer(body):
            sentence = body[position : match.start()].strip()
            if sentence:
                labels = tuple(label.strip() for label in match.group(1).split(","))
                statements.append(SimpleStatement(sentence, labels))
            position = match.end()
        rest = body[position:].strip()
        if rest and rest[-1] in ".:":
            statements.append(SimpleStatement(rest, ()))
    return statements


STATEMENTS = simple_statements(CORPUS)
CORPUS_LABELS = {label for statement in STATEMENTS for label in statement.citations}
ALL_EVIDENCE = [evidence for item in ITEMS for evidence in item.evidence]


def _short(text: str) -> str:
    return text[:50]


def test_simple_split_finds_every_statement() -> None:
    # 31 = 11 sentences + 5 bullet lead-ins + 15 bullet items, counted by hand from the file.
    assert len(STATEMENTS) == 31, [statement.text for statement in STATEMENTS]
    assert CORPUS_LABELS == {"1", "2", "3", "4", "5", "6"}


def test_bundled_file_loads() -> None:
    assert ITEMS and all(isinstance(item, GoldItem) for item in ITEMS)


def test_at_least_80_questions() -> None:
    assert len(ITEMS) >= 80, f"only {len(ITEMS)} gold questions"


def test_at_least_15_abstain() -> None:
    assert sum(item.abstain for item in ITEMS) >= 15


@pytest.mark.parametrize(
    ("tag", "minimum"),
    [
        ("dose", 20),
        ("wrong-dose", 8),
        ("not-specified", 4),
        ("calculation", 3),
        ("injection", 3),
        ("paraphrase", 5),
        ("lay", 5),
        ("abbreviation", 5),
        ("typo", 5),
        ("british", 5),
        ("unanswerable", 15),
    ],
)
def test_required_question_kinds_are_present(tag: str, minimum: int) -> None:
    count = sum(tag in item.tags for item in ITEMS)
    assert count >= minimum, f"{tag}: {count} questions, want at least {minimum}"


def test_known_tags_document_the_bundled_vocabulary_and_abstain_items_are_tagged() -> None:
    # KNOWN_TAGS is documentation of the bundled set's tags (other gold files may use any tag).
    assert {tag for item in ITEMS for tag in item.tags} <= KNOWN_TAGS
    for item in ITEMS:
        assert item.tags, f"{item.id}: no tags"
        assert item.abstain == ("unanswerable" in item.tags), f"{item.id}: abstain and 'unanswerable' disagree"


@pytest.mark.parametrize("item", ANSWERABLE, ids=lambda item: item.id)
def test_answerable_item_is_anchored(item: GoldItem) -> None:
    assert item.evidence, f"{item.id}: an answerable question needs evidence"
    assert item.question not in CORPUS, f"{item.id}: question copies the guideline verbatim"


@pytest.mark.parametrize("evidence", sorted(set(ALL_EVIDENCE)), ids=_short)
def test_evidence_is_verbatim_and_distinctive(evidence: str) -> None:
    assert evidence in CORPUS, f"not a substring of {CORPUS_PATH.name}: {evidence!r}"
    holders = [statement for statement in STATEMENTS if evidence in statement.text]
    assert len(holders) == 1, f"{evidence!r} should lie inside exactly one statement, found {len(holders)}"
    assert not re.search(r"\s\d{1,2}(,\s*\d{1,2})*$", evidence), f"{evidence!r} ends with citation numbers"


@pytest.mark.parametrize("item", [item for item in ITEMS if item.facts], ids=lambda item: item.id)
def test_facts_occur_in_the_corpus(item: GoldItem) -> None:
    corpus = normalize_fact(CORPUS)
    evidence_text = normalize_fact(
        " ".join(statement.text for statement in STATEMENTS if any(ev in statement.text for ev in item.evidence))
    )
    for fact in item.facts:
        assert normalize_fact(fact) in corpus, f"{item.id}: fact {fact!r} not in the corpus"
        assert normalize_fact(fact) in evidence_text, f"{item.id}: fact {fact!r} not in its evidence statements"


@pytest.mark.parametrize("item", ANSWERABLE, ids=lambda item: item.id)
def test_citations_are_labels_of_the_evidence(item: GoldItem) -> None:
    assert set(item.citations) <= CORPUS_LABELS, f"{item.id}: unknown citation label(s)"
    evidence_labels = {
        label
        for statement in STATEMENTS
        if any(evidence in statement.text for evidence in item.evidence)
        for label in statement.citations
    }
    assert set(item.citations) <= evidence_labels, f"{item.id}: {item.citations} not cited by its evidence statements"


@pytest.mark.parametrize("statement", STATEMENTS, ids=lambda statement: _short(statement.text))
def test_every_statement_is_asked_about(statement: SimpleStatement) -> None:
    assert any(evidence in statement.text for evidence in ALL_EVIDENCE), f"no gold question covers {statement.text!r}"


def test_every_parsed_statement_is_asked_about() -> None:
    """The same coverage check against the project's own parser, when it is available."""
    documents = pytest.importorskip("assistant.ingest.files")
    corpus = documents.load_corpus(CORPUS_DIR)
    texts = [statement.text for document in corpus.documents for statement in document.statements]
    assert texts
    uncovered = [text for text in texts if not any(evidence in text for evidence in ALL_EVIDENCE)]
    assert not uncovered, f"statements without a gold question: {uncovered}"


@pytest.mark.parametrize("item", [item for item in ITEMS if item.flag_dose], ids=lambda item: item.id)
def test_flag_dose_is_a_dose_in_the_question(item: GoldItem) -> None:
    assert item.flag_dose and item.flag_dose in item.question
    assert re.search(r"\d", item.flag_dose), f"{item.id}: flag_dose has no number"


# --------------------------------------------------------------------------- schema


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("375 mg/m² weekly × 4 doses", "375 mg/m2 weekly x 4 doses"),
        ("70\u201385%", "70-85%"),
        ("  IVIG\n  1 g/kg\t single ", "ivig 1 g/kg single"),
        ("\uff11 g/kg", "1 g/kg"),
    ],
)
def test_normalize_fact(raw: str, expected: str) -> None:
    assert normalize_fact(raw) == expected


def test_defaults() -> None:
    item = GoldItem(id="x-1", question="What is the IVIG dose?")
    assert (item.facts, item.citations, item.evidence, item.tags) == ([], [], [], [])
    assert item.abstain is False and item.flag_dose is None and item.forbidden_doses is False


GOOD = {"id": "dose-ivig-1", "question": "IVIG dose?", "evidence": ["1 g/kg as a single dose"], "citations": ["1"]}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({**GOOD, "evidnce": ["x"]}), "evidnce"),
        (json.dumps({**GOOD, "id": ""}), "id"),
        (json.dumps({**GOOD, "question": "   "}), "question"),
        (json.dumps({"id": "a", "question": "q?", "abstain": True, "evidence": ["x"]}), "abstain"),
        (json.dumps({**GOOD, "tags": ["Dosage"]}), "malformed tag"),
        (json.dumps({**GOOD, "tags": ["cross doc"]}), "malformed tag"),
        (json.dumps({**GOOD, "tags": [""]}), "malformed tag"),
        (json.dumps({**GOOD, "tags": ["-lay"]}), "malformed tag"),
        (json.dumps({**GOOD, "tags": ["lay\n"]}), "malformed tag"),
        (json.dumps({**GOOD, "flag_dose": "2 g/kg"}), "flag_dose"),
        (json.dumps({"question": "q?"}), "id"),
        (json.dumps(GOOD), "duplicate id"),
    ],
)
def test_load_gold_rejects_bad_lines_with_line_number(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_gold(path)
    text = str(caught.value)
    assert f"{path}:3" in text, text
    assert message in text, text


def test_load_gold_reads_good_lines_and_skips_blank_ones(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + json.dumps({**GOOD, "id": "dose-ivig-2"}) + "\n", encoding="utf-8")
    assert [item.id for item in load_gold(path)] == ["dose-ivig-1", "dose-ivig-2"]


@pytest.mark.parametrize("tags", [["terse"], ["cross-doc", "table"], ["my-own-tag-2", "pdf"], ["x"]])
def test_load_gold_accepts_any_well_formed_tag(tmp_path: Path, tags: list[str]) -> None:
    """A user's own gold file uses its own vocabulary; only malformed tags are typos worth rejecting."""
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({**GOOD, "tags": tags}) + "\n", encoding="utf-8")
    assert load_gold(path)[0].tags == tags


def test_load_gold_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_gold(tmp_path / "missing.jsonl")


def test_tune_and_check_halves_are_disjoint_stable_and_cover_the_set() -> None:
    from assistant.evaluation.gold import GoldItem, split_gold

    items = [GoldItem(id=f"item-{n}", question=f"question {n}?", abstain=True) for n in range(200)]
    tune, check = split_gold(items, "tune"), split_gold(items, "check")
    assert {i.id for i in tune} | {i.id for i in check} == {i.id for i in items}
    assert not {i.id for i in tune} & {i.id for i in check}
    assert 60 < len(tune) < 140, "a hash split is roughly half and half"
    assert [i.id for i in split_gold(items[:50], "tune")] == [i.id for i in tune if int(i.id.split("-")[1]) < 50]
    with pytest.raises(ValueError, match="split must be one of"):
        split_gold(items, "train")
