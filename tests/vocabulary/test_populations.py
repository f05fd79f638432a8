"""One population table, one name per group: the answer's note and the guardrail's context flag agree."""

from __future__ import annotations

import pytest

from assistant.guardrails.asked import Asked
from assistant.guardrails.context import contexts_in
from assistant.vocabulary.populations import named_populations, population_words

# Words from both former tables (medical_terms.json and the guardrail's own), each with the one group name.
WORDS = [
    ("children", "children"),
    ("paediatric", "children"),
    ("adolescents", "children"),
    ("kids", "children"),
    ("neonates", "newborns"),
    ("neonatal", "newborns"),
    ("pregnancy", "pregnancy"),
    ("gestational", "pregnancy"),
    ("obstetric", "pregnancy"),
    ("breast-feeding", "breastfeeding"),
    ("lactating", "breastfeeding"),
    ("elderly", "older adults"),
    ("older patients", "older adults"),
    ("over 75s", "older adults"),
    ("renal impairment", "kidney impairment"),
    ("renal insufficiency", "kidney impairment"),
    ("kidney injury", "kidney impairment"),
    ("ckd", "kidney impairment"),
    ("haemodialysis", "kidney impairment"),
    ("creatinine clearance", "kidney impairment"),
    ("eGFR", "kidney impairment"),
    ("hepatic impairment", "liver impairment"),
    ("liver failure", "liver impairment"),
    ("cirrhosis", "liver impairment"),
]


@pytest.mark.parametrize(("word", "group"), WORDS)
def test_the_answer_and_the_guardrail_give_a_group_one_name(word: str, group: str) -> None:
    question = f"What dose of methotrexate for psoriasis in {word}?"
    assert group in named_populations(question)
    assert group in [context.name for context in contexts_in(Asked.read(question))]


@pytest.mark.parametrize(("group", "word"), [(g, w) for g, words in population_words().items() for w in words])
def test_every_word_of_the_table_is_read_by_both(group: str, word: str) -> None:
    question = f"Is it safe with {word}?"
    assert group in named_populations(question)
    assert group in [context.name for context in contexts_in(Asked.read(question))]


def test_old_names_are_gone() -> None:
    assert "renal impairment" not in population_words()
    assert "hepatic impairment" not in population_words()


def test_a_lay_phrase_names_no_group() -> None:
    question = "What dose of sertraline for the baby blues?"
    assert "newborns" not in named_populations(question)
    assert not contexts_in(Asked.read(question))
