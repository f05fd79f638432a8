"""One unit table: every spelling is read the same by the grammar, the cleaner, selection and the reference parser."""

from __future__ import annotations

import pytest

from assistant.guardrails.clean import clean
from assistant.guardrails.doses import parse_doses
from assistant.ingest.references import UNIT_WORDS as REFERENCE_UNIT_WORDS
from assistant.vocabulary import AMOUNT, UNIT_NAMES, canonical_unit
from assistant.vocabulary.units import PINT_UNITS, UNIT_WORDS

SPELLINGS = [
    ("micrograms", "mcg"),
    ("microgram", "mcg"),
    ("mcg", "mcg"),
    ("ug", "mcg"),
    ("\u03bcg", "mcg"),  # Greek mu
    ("\u00b5g", "mcg"),  # micro sign
    ("milligrams", "mg"),
    ("mg", "mg"),
    ("nanograms", "ng"),
    ("grams", "g"),
    ("gm", "g"),
    ("g", "g"),
    ("grains", "gr"),
    ("units", "unit"),
    ("IU", "IU"),
    ("mL", "mL"),
    ("millilitres", "mL"),
    ("milliliters", "mL"),
    ("mmol", "mmol"),
    ("mEq", "mEq"),
]


@pytest.mark.parametrize(("spelling", "unit"), SPELLINGS)
def test_every_spelling_has_one_canonical_unit(spelling: str, unit: str) -> None:
    assert canonical_unit(spelling) == unit
    assert unit in PINT_UNITS


@pytest.mark.parametrize(("spelling", "unit"), SPELLINGS)
def test_the_grammar_reads_every_spelling(spelling: str, unit: str) -> None:
    [dose] = parse_doses(f"rituximab 250 {spelling} weekly")
    assert (dose.low, dose.unit, dose.schedule) == (250, unit, "weekly")


@pytest.mark.parametrize(("spelling", "unit"), SPELLINGS)
def test_an_amount_is_seen_in_every_spelling(spelling: str, unit: str) -> None:
    assert AMOUNT.search(f"give 250 {spelling} once")
    assert AMOUNT.search(f"give 250{spelling} once")


@pytest.mark.parametrize(("spelling", "unit"), SPELLINGS)
def test_the_cleaner_reads_an_amount_in_words_before_every_spelling(spelling: str, unit: str) -> None:
    cleaned = clean(f"two hundred fifty {spelling}")
    assert cleaned.text.startswith("250 ")
    assert any("in words" in risk for *_, risk in cleaned.risks)


@pytest.mark.parametrize(("spelling", "unit"), SPELLINGS)
def test_a_number_after_any_unit_is_no_citation(spelling: str, unit: str) -> None:
    assert spelling.lower() in REFERENCE_UNIT_WORDS
    assert REFERENCE_UNIT_WORDS is UNIT_WORDS


def test_the_table_holds_only_lower_case_spellings() -> None:
    assert all(spelling == spelling.lower() for spelling in UNIT_NAMES)


@pytest.mark.parametrize("text", ["e.g. a dose", "5 u of something", "in 2 groups", "see 3 guidelines"])
def test_no_amount_without_a_unit(text: str) -> None:
    assert not AMOUNT.search(text)
