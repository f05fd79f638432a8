"""Who a question is about: the groups of patients, one name each, from ``medical_terms.json``.

The one table of populations ("children", "pregnancy", "kidney impairment", ...):
the answer's population note and the dose guardrail's context flag both read it,
so a group has one name in every message.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.vocabulary.medical import medical_terms
from assistant.vocabulary.normalizer import QueryNormalizer, contains_term, default_normalizer


def population_words() -> dict[str, tuple[str, ...]]:
    """Group name -> the words that name it, as the data file writes them."""
    return medical_terms().populations


@lru_cache(maxsize=1)
def populations() -> dict[str, tuple[str, ...]]:
    """Group name -> the (normalized) words that name it."""
    normalizer = default_normalizer()
    return {name: tuple(normalizer.normalize(word) for word in words) for name, words in population_words().items()}


@lru_cache(maxsize=1)
def population_patterns() -> dict[str, re.Pattern[str]]:
    """Group name -> a case-insensitive pattern for its words in raw text (as written, either spelling)."""
    patterns: dict[str, re.Pattern[str]] = {}
    for name, words in population_words().items():
        spelled = {*words, *populations()[name]}
        body = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(spelled, key=len, reverse=True))
        patterns[name] = re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])", re.IGNORECASE)
    return patterns


def named_populations(text: str, normalizer: QueryNormalizer | None = None) -> list[str]:
    """The groups a text names; lay phrases are set aside first ("baby aspirin" names no baby).

    A lay phrase that is itself a word of a group ("elderly", "kidney failure") still names the group.
    """
    normalizer = normalizer or default_normalizer()
    normalized = normalizer.normalize(text)
    named = {word for words in populations().values() for word in words}
    for phrase in (term for term, _ in normalizer.translations(text) if term in normalizer.lay):
        if phrase not in named:
            normalized = normalized.replace(phrase, " ")
    return [name for name, words in populations().items() if any(contains_term(normalized, w) for w in words)]
