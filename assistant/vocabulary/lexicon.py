"""Whether a word names something medical: condition, test and drug-class words, generic drug names, suffixes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from assistant.vocabulary.drugs import lexicon
from assistant.vocabulary.medical import medical_terms


@dataclass(frozen=True)
class MedicalLexicon:
    """Words that name conditions, tests and drugs (data files, plus telling suffixes)."""

    terms: frozenset[str]
    suffixes: tuple[str, ...]
    conditions: frozenset[str] = frozenset()

    def names(self, token: str) -> bool:
        return token in self.terms or (len(token) >= 7 and token.endswith(self.suffixes))


@lru_cache(maxsize=1)
def medical_lexicon() -> MedicalLexicon:
    medical = medical_terms()
    terms = set(medical.words) | {name for name in lexicon().generics if " " not in name}
    return MedicalLexicon(terms=frozenset(terms), suffixes=medical.suffixes, conditions=medical.conditions)
