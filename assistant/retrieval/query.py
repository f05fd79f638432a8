"""Question checks and query normalization before search.

Normalization comes from a data file (``data/synonyms.json``): British to
American spelling, then expansion of abbreviations and synonyms, so "IVIG for
warm AIHA" also searches "intravenous immunoglobulin" and "autoimmune hemolytic
anemia". Nothing here is keyed to particular questions.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from assistant.errors import InputError
from assistant.vocabulary import load_data

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_DOSE_INTENT = re.compile(
    r"\b(dose|doses|dosing|dosage|dosed|how much|how many|grams?|milligrams?|micrograms?|units?|mg|mcg|g/kg|"
    r"mg/kg|mg/m2|regimen|schedule|how often|frequency|infusion rate|\d+(?:\.\d+)?\s?kg)\b",
    re.IGNORECASE,
)
# A number followed by a dose unit: a statement that states an amount.
AMOUNT = re.compile(r"\d\s*(?:mg|g|mcg|µg|μg|ug|units?|iu|ml|mmol)\b", re.IGNORECASE)
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


def mentions_dosing(question: str) -> bool:
    """Whether the question is about dosing at all: an amount, a schedule, a unit or a patient weight.

    Broader on purpose than the guardrail's ``asks_for_dose`` (which decides when
    to say "no dose given" or to calculate): here it only moves statements that
    state an amount ahead of the others when choosing what to quote.
    """
    return bool(_DOSE_INTENT.search(question))


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

    def matched_terms(self, text: str) -> list[str]:
        """Synonym-group terms and lay phrases that occur in the (normalized) text."""
        return list(dict.fromkeys(term for term, _ in self.translations(text)))

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
    medical = load_data("medical_terms.json")
    terms = {str(term).lower() for key in ("conditions", "tests", "drug_classes") for term in medical.get(key, [])}
    drugs = load_data("drugs.json").get("drugs", [])
    terms |= {str(name).lower() for name in drugs if isinstance(name, str) and " " not in name}
    conditions = frozenset(str(term).lower() for term in medical.get("conditions", []))
    return MedicalLexicon(terms=frozenset(terms), suffixes=tuple(medical.get("suffixes", [])), conditions=conditions)


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


def build_query(question: str, normalizer: QueryNormalizer | None = None) -> Query:
    """The corpus-independent analysis of a cleaned question."""
    from assistant.vocabulary.drugs import find_drugs

    normalizer = normalizer or default_normalizer()
    normalized = normalizer.normalize(question)
    generics = normalizer.generic_names(question)
    conditions = medical_lexicon().conditions
    return Query(
        text=question,
        normalized=normalized,
        expanded=normalizer.expand(question),
        expansions=tuple(normalizer.expansions(question)),
        dose_intent=mentions_dosing(question),
        drugs=tuple(dict.fromkeys(mention.key for mention in find_drugs(" ; ".join([question, *generics])))),
        conditions=tuple(dict.fromkeys(term for term in words(normalized) if term in conditions)),
    )
