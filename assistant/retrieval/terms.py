"""Word-level helpers shared by search and query analysis: BM25 tokens, stems, names and eponyms."""

from __future__ import annotations

import re

import bm25s
from wordfreq import zipf_frequency

from assistant.vocabulary.normalizer import words

try:  # stemming is optional: bm25s works on surface forms without it
    import Stemmer

    STEM = Stemmer.Stemmer("english").stemWords
except ImportError:  # pragma: no cover
    STEM = None

STOPWORDS = frozenset(bm25s.stopwords.STOPWORDS_EN) | {"guideline", "guidelines", "say", "says", "recommend"}


def looks_like_quantity(token: str) -> bool:
    """'70kg', '2g', 'q6h', '375mg' are amounts, not names."""
    return bool(re.fullmatch(r"q?\d+(?:[.,]\d+)?[a-z]{0,4}\d?|[a-z]{1,3}\d{1,3}", token))


def is_rare_name(surface: str, is_first_word: bool) -> bool:
    """A rare word written as a name or abbreviation: "Kawasaki", "INR", "HbA1c"."""
    if zipf_frequency(surface.lower(), "en") >= 3.0:
        return False
    abbreviation = len(surface) <= 6 and sum(ch.isupper() or ch.isdigit() for ch in surface) >= 2
    capitalized = surface[:1].isupper() and not is_first_word
    return abbreviation or capitalized


# "Bell's palsy", "Paget's disease", "Raynaud's phenomenon": a name plus a condition noun names a condition
# even when the name is an everyday word.
_EPONYM = re.compile(
    r"\b([A-Z][a-z]+)(?:'s|’s|s')?\s+(?:disease|palsy|syndrome|sign|phenomenon|ulcer|sarcoma|lymphoma|"
    r"anomaly|contracture|fracture|cyst|thyroiditis|arthritis|encephalopathy|neuralgia|dystrophy)\b"
)


def eponyms(question: str) -> set[str]:
    """Lower-case eponym words of a question ("bell's" for "Bell's palsy")."""
    found = set()
    for match in _EPONYM.finditer(question):
        surface = question[match.start(1) : match.end(1)].lower()
        found |= {surface, surface + "'s", surface + "s"}
    return found


def unique(tokens: list[str]) -> list[str]:
    return list(dict.fromkeys(tokens))


def bm25_tokens(text: str) -> list[str]:
    """Stemmed words without stopwords; a hyphenated compound also yields its parts.

    "corticosteroid-refractory" must match a question about "refractory" disease,
    and "second-line" a question about the "second line".
    """
    tokens: list[str] = []
    for token in words(text):
        parts = [part for part in token.split("-") if part] if "-" in token else []
        tokens.extend(t for t in [token, *parts] if t not in STOPWORDS)
    return list(STEM(tokens)) if STEM else tokens
