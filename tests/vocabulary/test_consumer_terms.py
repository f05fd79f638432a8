"""The consumer-health vocabulary (``assistant/data/consumer_terms.json``): shape, case, order and safe keys."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

# Single words too common or ambiguous to stand alone as a lay phrase: they may appear only inside a phrase
# ("blood sugar", "having a wee", "baby bump", "the runs", "drinking enough").
AMBIGUOUS_WORDS = frozenset(
    {
        "baby", "blood", "bump", "change", "chest", "coil", "cold", "drinking", "drip", "fit", "heart", "high",
        "low", "pain", "period", "rash", "runs", "scan", "spots", "stomach", "sugar", "temperature", "test", "wee",
    }
)  # fmt: skip


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicates, f"duplicate keys: {duplicates}"
    return dict(pairs)


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    text = resources.files("assistant").joinpath("data", "consumer_terms.json").read_text("utf-8")
    loaded = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    assert isinstance(loaded, dict)
    return loaded


def test_top_level_shape(data: dict[str, Any]) -> None:
    assert set(data) == {"_about", "terms", "brands"}
    assert isinstance(data["_about"], str) and "licence" in data["_about"].lower()
    assert isinstance(data["terms"], dict) and len(data["terms"]) >= 350
    assert isinstance(data["brands"], dict) and len(data["brands"]) >= 120


@pytest.mark.parametrize("section", ["terms", "brands"])
def test_keys_are_lower_case_trimmed_and_sorted(data: dict[str, Any], section: str) -> None:
    keys = list(data[section])
    for key in keys:
        assert isinstance(key, str) and key, key
        assert key == key.lower() == key.strip() and "  " not in key, repr(key)
    assert keys == sorted(keys), f"{section} keys are not sorted"


def test_each_lay_phrase_maps_to_one_to_four_distinct_guideline_terms(data: dict[str, Any]) -> None:
    for phrase, targets in data["terms"].items():
        assert isinstance(targets, list) and 1 <= len(targets) <= 4, phrase
        assert all(isinstance(t, str) and t and t == t.strip() == t.lower() for t in targets), phrase
        assert len(set(targets)) == len(targets), f"{phrase}: repeated target"
        assert phrase not in targets, f"{phrase} is mapped to itself"


def test_no_ambiguous_single_word_lay_phrase(data: dict[str, Any]) -> None:
    assert not AMBIGUOUS_WORDS & set(data["terms"])


def test_brands_map_to_a_different_generic_name(data: dict[str, Any]) -> None:
    for brand, generic in data["brands"].items():
        assert isinstance(generic, str) and generic and generic == generic.strip() == generic.lower(), brand
        assert generic != brand, f"{brand} is mapped to itself"
    assert not set(data["brands"]) & set(data["terms"]), "a key is both a lay phrase and a brand"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("piles", {"haemorrhoids", "hemorrhoids"}),
        ("ear infection", {"otitis media"}),
        ("morning after pill", {"emergency contraception"}),
        ("blue lights", {"phototherapy"}),
        ("mini-stroke", {"transient ischaemic attack", "transient ischemic attack"}),
        ("vaping", {"electronic nicotine delivery systems"}),
        ("blood sugar", {"blood glucose"}),
    ],
)
def test_core_lay_phrases_reach_guideline_wording_in_both_spellings(
    data: dict[str, Any], phrase: str, expected: set[str]
) -> None:
    assert expected <= set(data["terms"][phrase])


def test_core_brands(data: dict[str, Any]) -> None:
    brands = data["brands"]
    assert brands["tylenol"] == "acetaminophen" and brands["calpol"] == "paracetamol"
    assert brands["ellaone"] == "ulipristal acetate" and brands["levonelle"] == "levonorgestrel"
    assert brands["epipen"] == "adrenaline" and brands["truvada"] == "emtricitabine/tenofovir disoproxil"
