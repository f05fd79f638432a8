"""Lay phrases and brand names are translated to guideline terms, one way, from the vocabulary file."""

from __future__ import annotations

import pytest

from assistant.retrieval.query import build_query
from assistant.vocabulary.normalizer import default_normalizer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("my kid has an ear infection, how much amoxicillin?", "otitis media"),
        ("Where do you stick an EpiPen?", "adrenaline"),
        ("I took ellaOne last night", "ulipristal acetate"),
        ("do I need a water pill", "diuretic"),
        ("how can i make my babys jabs hurt less", "vaccination"),
        ("stomach flu in my toddler", "gastroenteritis"),
    ],
)
def test_lay_wording_brings_the_guideline_term(question: str, expected: str) -> None:
    assert expected in default_normalizer().expansions(question)


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        ("stomach flu in my toddler", "influenza"),  # longest phrase wins: "stomach flu" is not "flu"
        ("What diuretic is used in heart failure?", "water pill"),  # one way: guideline words are not made lay
        ("Is otitis media treated with amoxicillin?", "ear infection"),
    ],
)
def test_translations_are_one_way_and_longest_first(question: str, absent: str) -> None:
    assert absent not in default_normalizer().expansions(question)


@pytest.mark.parametrize(
    ("question", "drug"),
    [("Can I take Tylenol with it?", "acetaminophen"), ("How much Calpol for a 2 year old?", "acetaminophen")],
)
def test_a_brand_name_names_its_generic_drug(question: str, drug: str) -> None:
    assert drug in build_query(question).drugs
