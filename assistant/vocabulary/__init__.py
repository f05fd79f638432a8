"""Domain vocabulary: the words of the domain, defined once and read by every stage.

- :mod:`~assistant.vocabulary.data`: the bundled data files, opened here and nowhere else
  (``drugs.json``, ``synonyms.json``, ``medical_terms.json``, ``consumer_terms.json``).
- :mod:`~assistant.vocabulary.units`: dose units (every spelling -> its canonical unit) and the
  patterns derived from them (:data:`AMOUNT`, the grammar's unit alternation).
- :mod:`~assistant.vocabulary.routes`: routes of administration and how a message names them.
- :mod:`~assistant.vocabulary.schedules`: frequencies, intervals, and the regimen in words.
- :mod:`~assistant.vocabulary.populations`: patient groups, one name each.
- :mod:`~assistant.vocabulary.drugs`: drug recognition and classes (``drugs.json``).
- :mod:`~assistant.vocabulary.medical`, :mod:`~assistant.vocabulary.lexicon`: condition, test and
  drug-class words (``medical_terms.json``) and whether a word names something medical.
- :mod:`~assistant.vocabulary.intent`: what a question asks for (a dose, a duration, ...).
- :mod:`~assistant.vocabulary.normalizer`: the question normaliser (spelling, synonyms, lay and brand terms).

The package stays light: it imports no index, model or search library.
"""

from __future__ import annotations

from assistant.vocabulary.data import DATA_FILES, load_data
from assistant.vocabulary.intent import asks_for_dose, mentions_dosing, wanted_kind
from assistant.vocabulary.normalizer import QueryNormalizer, contains_term, default_normalizer, words
from assistant.vocabulary.routes import ROUTES, Route
from assistant.vocabulary.schedules import course_words, regimen_words
from assistant.vocabulary.units import AMOUNT, UNIT_NAMES, canonical_unit

__all__ = [
    "AMOUNT",
    "DATA_FILES",
    "ROUTES",
    "UNIT_NAMES",
    "QueryNormalizer",
    "Route",
    "asks_for_dose",
    "canonical_unit",
    "contains_term",
    "course_words",
    "default_normalizer",
    "load_data",
    "mentions_dosing",
    "regimen_words",
    "wanted_kind",
    "words",
]
