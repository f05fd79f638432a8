"""Typo correction from a delete index: the same corrections as difflib, a lookup that does not scan the vocabulary."""

from __future__ import annotations

import difflib

import pytest

from assistant.retrieval.spelling import Speller, deletes

VOCABULARY = sorted(
    [
        "rituximab",
        "prednisone",
        "immunoglobulin",
        "splenectomy",
        "hemolytic",
        "anemia",
        "refractory",
        "corticosteroid",
        "dose",
    ]
)


@pytest.mark.parametrize(
    ("typo", "word"),
    [
        ("rituximb", "rituximab"),  # a letter missing
        ("rituxiamb", "rituximab"),  # two letters swapped
        ("predinsone", "prednisone"),
        ("splenektomy", "splenectomy"),  # a letter replaced
        ("refractorry", "refractory"),  # a letter added
        ("coticosteriod", "corticosteroid"),  # a letter missing and two swapped
        ("immunoglobulins", "immunoglobulin"),
    ],
)
def test_corrects_like_difflib(typo: str, word: str) -> None:
    assert Speller(VOCABULARY).correct(typo) == [word]
    assert difflib.get_close_matches(typo, VOCABULARY, n=1, cutoff=0.8) == [word]


@pytest.mark.parametrize("word", ["xylophone", "warfarin", "kawasaki"])
def test_unrelated_words_are_not_corrected(word: str) -> None:
    assert Speller(VOCABULARY).correct(word) == []


def test_deletes_are_every_form_with_up_to_two_letters_removed() -> None:
    assert deletes("abc", 1) == {"abc", "bc", "ac", "ab"}
    assert deletes("abc") == {"abc", "bc", "ac", "ab", "a", "b", "c"}


def test_a_lookup_scores_only_the_candidates_sharing_a_deleted_form() -> None:
    """Thousands of unrelated words are never compared: the index narrows to a handful."""
    filler = [f"zq{i:05d}x" for i in range(20_000)]
    speller = Speller(sorted([*VOCABULARY, *filler]))
    assert speller.correct("rituximb") == ["rituximab"]
    index = speller._index
    assert index is not None
    candidates = {word_id for form in deletes("rituximb"[:7]) for word_id in index.get(form, ())}
    assert len(candidates) < 10


def test_the_searcher_corrects_a_misspelt_drug_through_the_speller(assistant) -> None:
    terms, _ = assistant.searcher.query_terms("What is the rituximb dose?")
    assert any(term.startswith("rituximab") for term in terms)
    assert assistant.searcher.analyzer.speller.correct("rituximb") == ["rituximab"]
