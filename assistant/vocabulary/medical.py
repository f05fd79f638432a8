"""``medical_terms.json`` read once: condition, test and drug-class words, telling suffixes, populations.

:func:`medical_terms` is the one interpreter of the file; its words, with the
generic drug names, make the :class:`assistant.vocabulary.lexicon.MedicalLexicon`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from assistant.vocabulary.data import load_data


@dataclass(frozen=True)
class MedicalTerms:
    """The contents of ``medical_terms.json``, lower-cased."""

    conditions: frozenset[str]
    tests: frozenset[str]
    drug_classes: frozenset[str]
    suffixes: tuple[str, ...]
    populations: dict[str, tuple[str, ...]]

    @property
    def words(self) -> frozenset[str]:
        """Condition, test and drug-class words: real medical words (never a misspelt drug name)."""
        return self.conditions | self.tests | self.drug_classes


@lru_cache(maxsize=1)
def medical_terms() -> MedicalTerms:
    data = load_data("medical_terms.json")

    def terms(key: str) -> frozenset[str]:
        return frozenset(str(term).lower() for term in data.get(key, []))

    return MedicalTerms(
        conditions=terms("conditions"),
        tests=terms("tests"),
        drug_classes=terms("drug_classes"),
        suffixes=tuple(str(s) for s in data.get("suffixes", [])),
        populations={
            str(name): tuple(str(word).lower() for word in words) for name, words in data.get("populations", {}).items()
        },
    )
