"""Scope: doses quoted for one condition must not be read as doses for another the question names."""

from __future__ import annotations

import Stemmer

from assistant.answer.populations import scope_text
from assistant.answer.schema import Flag, FlagCode, Severity
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.vocabulary.normalizer import contains_term, default_normalizer, words
from assistant.vocabulary.units import AMOUNT

_STEM = Stemmer.Stemmer("english")


def _mentioned(term: str, scope_words: set[str], scope_stems: set[str]) -> bool:
    """ "seizure" is mentioned by "seizures", "pregnant" by "pregnancy", "arthritis" by "osteoarthritis"."""
    stem = _STEM.stemWord(term)
    prefix = stem[: max(6, len(stem) - 2)]
    if stem in scope_stems or (len(stem) >= 6 and any(s.startswith(prefix) for s in scope_stems)):
        return True
    return len(term) >= 6 and any(term in word for word in scope_words)


def scope_flags(query: Query, selected: list[Hit]) -> list[Flag]:
    """Doses quoted for one condition must not be read as doses for another the question names.

    "What is the IVIG dose in ITP?" retrieves the AIHA guideline's IVIG dose; when no
    quoted statement that states a dose (its text, lead-in, section or document
    title) concerns the condition the question names, say that the guideline gives
    no dose for it.
    """
    dosed = [hit for hit in selected if AMOUNT.search(hit.chunk.text)]
    if not dosed or not query.dose_intent:
        return []
    normalizer = default_normalizer()
    scope = scope_text(dosed)
    titles = ", ".join(dict.fromkeys(f"“{h.chunk.title}”" for h in dosed))
    flags: list[Flag] = []
    scope_words = set(words(scope))
    scope_stems = set(_STEM.stemWords(list(scope_words)))
    for term in query.conditions:
        if any(contains_term(scope, variant) for variant in [term, *normalizer.expansions(term)]):
            continue
        if _mentioned(term, scope_words, scope_stems):
            continue
        name = term.upper() if len(term) <= 4 else term
        message = (
            f"The question asks about {name}, but no quoted statement that gives a dose concerns {name}: the doses "
            f"below come from {titles} and are not stated for {name}. The passages found give no dose for {name}."
        )
        flags.append(Flag(code=FlagCode.DOSE_OTHER_CONTEXT, severity=Severity.WARN, message=message, text=term))
    return flags
