"""Drug-name recognition for the dose guardrail.

Names come from ``assistant/data/drugs.json`` (generic names, classes and
abbreviation aliases such as IVIG) plus a stem-suffix heuristic (-mab, -nib,
-sone, -olone, ...), so that a guideline file added by a user is covered without
code changes. Every mention resolves to a canonical *key* so that "IVIG" and
"intravenous immunoglobulin" compare equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from wordfreq import zipf_frequency

from assistant.vocabulary.data import load_data
from assistant.vocabulary.medical import medical_terms

# A dose-intensity word written right before a drug ("low-dose IVIG") changes
# which statement is "about" the drug, so it is kept with the mention.
_MODIFIER = re.compile(r"(?i)(low|high|standard|full|reduced|maintenance|loading|pulse)(?:[- ]dose)?[- ]$")
_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z-]{3,}(?![A-Za-z0-9])")
# A misspelt drug name ("rituxamab", "predisone") is at most this many edits from the name, by word length;
# common English words (Zipf >= 3) are never read as a misspelt drug.
_TYPO_MIN_LENGTH = 5
_COMMON_WORD_ZIPF = 3.0


@dataclass(frozen=True)
class DrugMention:
    """One drug name found in a text: ``text[start:end] == surface``."""

    surface: str
    key: str
    start: int
    end: int
    modifier: str | None = None

    @property
    def label(self) -> str:
        """How a message names this mention: "low-dose IVIG", "rituximab"."""
        return f"{self.modifier}-dose {self.surface}" if self.modifier else self.surface


@dataclass(frozen=True)
class Lexicon:
    """Name -> canonical key, class memberships, and the suffix heuristic."""

    names: dict[str, str]
    classes: dict[str, frozenset[str]]
    pattern: re.Pattern[str]
    suffixes: tuple[str, ...]
    stopwords: frozenset[str]
    generics: tuple[str, ...] = ()  # the generic names listed in the file (no aliases, no classes)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """Load the bundled drug list once; the data file is the only place names live."""
    raw = load_data("drugs.json")
    names: dict[str, str] = {name.lower(): name.lower() for name in raw["drugs"]}
    for canonical, aliases in raw["aliases"].items():
        key = canonical.lower()
        names[key] = key
        for alias in aliases:
            names[alias.lower()] = key
    classes: dict[str, frozenset[str]] = {}
    for class_name, spec in raw["classes"].items():
        key = class_name.lower()
        names[key] = key
        for alias in spec["aliases"]:
            names[alias.lower()] = key
        classes[key] = frozenset(names.get(m.lower(), m.lower()) for m in spec["members"])
    # Longest first, so "mycophenolate mofetil" wins over "mycophenolate".
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?i)(?<![A-Za-z0-9])(?:{alternatives})(?![A-Za-z0-9])")
    return Lexicon(
        names=names,
        classes=classes,
        pattern=pattern,
        suffixes=tuple(raw["suffixes"]),
        stopwords=frozenset(w.lower() for w in raw["suffix_stopwords"]),
        generics=tuple(str(name).lower() for name in raw["drugs"] if isinstance(name, str)),
    )


def find_drugs(text: str, typos: bool = False) -> list[DrugMention]:
    """Every drug mention in ``text``, in order; lexicon names first, then suffix guesses.

    ``typos=True`` (for questions, never for guideline text) also reads a word one or two
    letters away from a lexicon name as that drug: "rituxamab dose" asks about rituximab.
    """
    lex = lexicon()
    mentions: list[DrugMention] = []
    taken: list[tuple[int, int]] = []
    for match in lex.pattern.finditer(text):
        mentions.append(_mention(text, match.start(), match.end(), lex.names[match.group(0).lower()]))
        taken.append((match.start(), match.end()))
    for match in _WORD.finditer(text):
        word = match.group(0).lower().strip("-")
        if word in lex.stopwords or word in lex.names or not word.endswith(lex.suffixes):
            continue
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        if typos and (key := _misspelt(word)) is not None:
            mentions.append(_mention(text, match.start(), match.end(), key))
            continue
        mentions.append(_mention(text, match.start(), match.end(), word))
    if typos:
        mentions.extend(_typo_mentions(text, [(m.start, m.end) for m in mentions]))
    return sorted(mentions, key=lambda m: m.start)


def _typo_mentions(text: str, taken: list[tuple[int, int]]) -> list[DrugMention]:
    """Words that are no drug as written but a small misspelling of one."""
    found: list[DrugMention] = []
    for match in _WORD.finditer(text):
        if any(s < match.end() and match.start() < e for s, e in taken):
            continue
        key = _misspelt(match.group(0).lower().strip("-"))
        if key is not None:
            found.append(_mention(text, match.start(), match.end(), key))
    return found


@lru_cache(maxsize=4096)
def _misspelt(word: str) -> str | None:
    """The lexicon key a rare word misspells (same first letter, one edit, two for words of 10+ letters), else None."""
    lex = lexicon()
    if len(word) < _TYPO_MIN_LENGTH or word in lex.names or zipf_frequency(word, "en") >= _COMMON_WORD_ZIPF:
        return None
    if word in _medical_words() or word.rstrip("s") in _medical_words():
        return None  # "thiazide" is a drug class, not a misspelt "thiamine"
    allowed = 1 if len(word) < 10 else 2
    choices = [name for name in _single_word_names() if name[0] == word[0] and abs(len(name) - len(word)) <= allowed]
    best = process.extractOne(word, choices, scorer=Levenshtein.distance, score_cutoff=allowed)
    return lex.names[best[0]] if best is not None else None


def _medical_words() -> frozenset[str]:
    """Condition, test and drug-class words (medical_terms.json): real words, never typos of a drug."""
    return medical_terms().words


@lru_cache(maxsize=1)
def _single_word_names() -> tuple[str, ...]:
    return tuple(name for name in lexicon().names if " " not in name and len(name) >= _TYPO_MIN_LENGTH)


def same_drug(a: str | None, b: str | None) -> bool:
    """True when two keys name the same drug, or one is a class holding the other."""
    if a is None or b is None:
        return False
    if a == b:
        return True
    classes = lexicon().classes
    if b in classes.get(a, frozenset()) or a in classes.get(b, frozenset()):
        return True
    return _suffix_class(a, b) or _suffix_class(b, a) or _misspelt_pair(a, b)


def _suffix_class(group: str, member: str) -> bool:
    """ "statin(s)" holds atorvastatin, "sartan" losartan: a class word that is itself a drug-name suffix."""
    stem = group[:-1] if group.endswith("s") else group
    return stem in lexicon().suffixes and member.endswith(stem) and member != stem


def _misspelt_pair(a: str, b: str) -> bool:
    """Two long single-word names two edits apart with the same ending: one misspells the other.

    "pavilizumab" asked, "palivizumab" quoted (a name known only by its suffix cannot be
    corrected against the lexicon, so the comparison is made here).
    """
    if min(len(a), len(b)) < 9 or " " in a or " " in b or a[-3:] != b[-3:]:
        return False
    return Levenshtein.distance(a, b, score_cutoff=2) <= 2


def _mention(text: str, start: int, end: int, key: str) -> DrugMention:
    modifier = _MODIFIER.search(text[max(0, start - 20) : start])
    return DrugMention(
        surface=text[start:end],
        key=key,
        start=start,
        end=end,
        modifier=modifier.group(1).lower() if modifier else None,
    )
