"""The question as searched: input checks, then the corpus-independent analysis (:class:`Query`).

The words it reads (spelling, synonyms, drugs, conditions, dose intent) come from
:mod:`assistant.vocabulary`; nothing here is keyed to particular questions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.errors import InputError
from assistant.vocabulary.intent import mentions_dosing
from assistant.vocabulary.medical import medical_terms
from assistant.vocabulary.normalizer import QueryNormalizer, default_normalizer, words

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_question(question: object, max_chars: int) -> str:
    """The question as searched, or an :class:`InputError` a user can act on."""
    if not isinstance(question, str):
        raise InputError("The question must be text.")
    # Lone surrogates (undecodable bytes in argv arrive as "\udcff") cannot be
    # encoded, and the tokenizer would fail with a TypeError: make them U+FFFD.
    question = _SURROGATE.sub("\ufffd", question)
    if len(question) > 4 * max_chars:  # refused before any normalisation work, however long the input
        raise InputError(
            f"The question is {len(question):,} characters long; the limit is {max_chars:,}. Ask a shorter question."
        )
    text = _CONTROL.sub(" ", unicodedata.normalize("NFC", question)).strip()
    if not text:
        raise InputError("The question is empty: type a question about the guideline.")
    # Searching folds compatibility forms (NFKC), under which one character can become 18
    # (U+FDFA): the limit applies to the longer of the two, so it bounds the work done.
    folded = len(unicodedata.normalize("NFKC", text))
    if max(len(text), folded) > max_chars:
        expanded = f" ({folded:,} once its special characters are spelled out)" if folded > len(text) else ""
        raise InputError(
            f"The question is {len(text):,} characters long{expanded}; the limit is {max_chars:,}. Ask a shorter question."
        )
    if not re.search(r"\w", text):
        raise InputError("The question has no words in it: type a question about the guideline.")
    return text


@dataclass(frozen=True)
class Query:
    """One question, analysed once and passed to every stage that needs it.

    ``text`` is the cleaned question as asked; ``normalized`` has British spellings
    rewritten; ``expanded`` adds synonyms and abbreviations (what is embedded);
    ``drugs`` are canonical drug keys named; ``conditions`` the condition words
    named. ``domain_terms``/``unknown_terms`` depend on the corpus and are filled
    by the searcher (see ``HybridSearcher.analyze``); ``documents`` restricts the
    search to those guidelines (see ``HybridSearcher.restrict``).
    """

    text: str
    normalized: str
    expanded: str
    expansions: tuple[str, ...]
    dose_intent: bool
    drugs: tuple[str, ...]
    conditions: tuple[str, ...]
    domain_terms: tuple[str, ...] = ()
    unknown_terms: tuple[str, ...] = ()
    unfamiliar_terms: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()  # sources the answer is restricted to; empty: the whole library
    min_strength: str | None = None  # only statements graded at least this strong (assistant.vocabulary.grades)


def build_query(question: str, normalizer: QueryNormalizer | None = None) -> Query:
    """The corpus-independent analysis of a cleaned question."""
    from assistant.vocabulary.drugs import find_drugs

    normalizer = normalizer or default_normalizer()
    normalized = normalizer.normalize(question)
    generics = normalizer.generic_names(question)
    conditions = medical_terms().conditions
    return Query(
        text=question,
        normalized=normalized,
        expanded=normalizer.expand(question),
        expansions=tuple(normalizer.expansions(question)),
        dose_intent=mentions_dosing(question),
        drugs=tuple(dict.fromkeys(mention.key for mention in find_drugs(" ; ".join([question, *generics])))),
        conditions=tuple(dict.fromkeys(term for term in words(normalized) if term in conditions)),
    )
