"""The question normaliser: spelling, synonyms, lay phrases and brand names, from the data files.

British to American spelling, then expansion of abbreviations and synonyms
(``data/synonyms.json``), so "IVIG for warm AIHA" also searches "intravenous
immunoglobulin" and "autoimmune hemolytic anemia"; lay phrases and brand names
(``data/consumer_terms.json``) translate one way to the terms guidelines use.
Nothing here is keyed to particular questions.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from assistant.vocabulary.data import load_data

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


@dataclass(frozen=True)
class QueryNormalizer:
    """Spelling rewrites, synonym groups and lay/brand translations, loaded from JSON data files.

    Synonym groups are symmetric (any member brings the others); lay phrases and
    brand names translate one way ("water pill" -> "diuretic"), because a
    guideline never says "water pill" and a clinician's "diuretic" should not
    search for it.
    """

    spelling: dict[str, str]
    groups: tuple[tuple[str, ...], ...]
    lay: dict[str, tuple[str, ...]] = field(default_factory=dict)
    brands: frozenset[str] = frozenset()  # the lay keys that are brand names (they name drugs)
    _lay_pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.lay and self._lay_pattern is None:
            phrases = sorted(self.lay, key=len, reverse=True)
            body = "|".join(re.escape(phrase) for phrase in phrases)
            pattern = re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")
            object.__setattr__(self, "_lay_pattern", pattern)

    @classmethod
    def from_json(cls, text: str) -> QueryNormalizer:
        return cls.from_data(json.loads(text))

    @classmethod
    def from_data(cls, data: dict[str, Any], consumer: dict[str, Any] | None = None) -> QueryNormalizer:
        spelling = {str(k).lower(): str(v).lower() for k, v in data.get("spelling", {}).items()}
        groups = tuple(tuple(str(term).lower() for term in group) for group in data.get("synonyms", []))
        normalizer = cls(spelling=spelling, groups=groups)
        if not consumer:
            return normalizer
        lay: dict[str, tuple[str, ...]] = {}
        for phrase, terms in consumer.get("terms", {}).items():
            lay[normalizer.normalize(str(phrase))] = tuple(normalizer.normalize(str(term)) for term in terms)
        brands: set[str] = set()
        for brand, generic in consumer.get("brands", {}).items():
            names = tuple(normalizer.normalize(part).strip() for part in str(generic).split("/") if part.strip())
            key = normalizer.normalize(str(brand))
            if key not in lay:
                lay[key] = names
                brands.add(key)
        return cls(spelling=spelling, groups=groups, lay=lay, brands=frozenset(brands))

    def normalize(self, text: str) -> str:
        """Lower case, NFKC, British spellings rewritten."""
        lowered = unicodedata.normalize("NFKC", text).lower()
        return _WORD.sub(lambda m: self.spelling.get(m.group(0), m.group(0)), lowered)

    def translations(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(term found in the text, what it also stands for): synonym-group members, then lay phrases.

        Lay phrases match longest first and never overlap ("stomach flu" is not also "flu").
        """
        normalized = self.normalize(text)
        found: list[tuple[str, tuple[str, ...]]] = []
        for group in self.groups:
            present = [term for term in group if contains_term(normalized, term)]
            if present:
                others = tuple(term for term in group if term not in present)
                found.extend((term, others) for term in present)
        if self._lay_pattern is not None:
            found.extend((m.group(0), self.lay[m.group(0)]) for m in self._lay_pattern.finditer(normalized))
        return found

    def generic_names(self, text: str) -> list[str]:
        """The generic names of brand names in the text ("ellaOne" -> "ulipristal acetate")."""
        if self._lay_pattern is None:
            return []
        hits = [m.group(0) for m in self._lay_pattern.finditer(self.normalize(text)) if m.group(0) in self.brands]
        return [name for brand in hits for name in self.lay[brand]]

    def expansions(self, text: str) -> list[str]:
        """Terms the text's synonyms, lay phrases and brand names stand for, each once, not already in it."""
        normalized = self.normalize(text)
        extra: list[str] = []
        for _, alternatives in self.translations(text):
            extra.extend(t for t in alternatives if t not in extra and not contains_term(normalized, t))
        return extra

    def expand(self, text: str) -> str:
        """The normalized text followed by its synonyms: what BM25 and the embedding see."""
        extra = self.expansions(text)
        normalized = self.normalize(text)
        return f"{normalized} ({'; '.join(extra)})" if extra else normalized


def contains_term(text: str, term: str) -> bool:
    """Whether ``term`` occurs in ``text`` as whole words."""
    return re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", text) is not None


@lru_cache(maxsize=1)
def default_normalizer() -> QueryNormalizer:
    return QueryNormalizer.from_data(load_data("synonyms.json"), load_data("consumer_terms.json"))


def words(text: str) -> list[str]:
    """Lower-case word tokens (shared by BM25 indexing and querying)."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())
