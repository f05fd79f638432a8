"""Typo correction whose cost per question does not grow with the library.

``difflib.get_close_matches`` compared every unknown question word with every word
of the corpus, so at 100k statements each question paid for a pass over the whole
vocabulary (36 ms per unknown word with 30,000 words). This is a symmetric-delete
index (SymSpell's): every corpus word is filed under the first ``PREFIX`` letters and
the forms of them with one or two letters deleted; a question word looks up the same
forms of its own prefix, so a lookup costs the same at any vocabulary size (0.07 ms
with 30,000 words). The few words found are scored with rapidfuzz's normalized Indel
similarity (2 x matching letters / total letters, what difflib's ratio approximates)
against the same 0.8 cutoff, so what counts as close is unchanged.

Only the prefix is indexed, as in SymSpell: two edits anywhere in a word are found
when the prefix has at most two of them, and the index stays a few dozen entries per
word. It is built on the first unknown word, not when the index is loaded (0.7 s for
30,000 words on a busy two-core machine; milliseconds for the bundled guideline).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from rapidfuzz.distance import Indel

CUTOFF = 0.8
PREFIX = 7
MAX_DELETES = 2
MIN_WORD = 4  # a word this short is never 0.8-similar to a question word of 5 letters or more


def deletes(word: str, most: int = MAX_DELETES) -> set[str]:
    """``word`` and every string made by deleting up to ``most`` of its letters (never all of them)."""
    found = {word}
    layer = {word}
    for _ in range(most):
        layer = {form[:i] + form[i + 1 :] for form in layer if len(form) > 1 for i in range(len(form))}
        found |= layer
    return found


class Speller:
    """Closest corpus word to a misspelt question word, from an index built once per loaded index."""

    def __init__(self, vocabulary: Sequence[str], cutoff: float = CUTOFF) -> None:
        self._vocabulary = list(vocabulary)
        self._cutoff = cutoff
        self._index: dict[str, list[int]] | None = None
        self._lock = threading.Lock()

    def correct(self, token: str) -> list[str]:
        """The best corpus word at similarity >= cutoff, as a list of zero or one (difflib's shape)."""
        index = self._index if self._index is not None else self._build()
        candidates = {word_id for form in deletes(token[:PREFIX]) for word_id in index.get(form, ())}
        best: tuple[float, str] | None = None
        for word_id in candidates:
            word = self._vocabulary[word_id]
            score = Indel.normalized_similarity(token, word, score_cutoff=self._cutoff)
            if score and (best is None or (score, word) > best):
                best = (score, word)
        return [best[1]] if best else []

    def _build(self) -> dict[str, list[int]]:
        with self._lock:  # two first questions at once build it once
            if self._index is None:
                self._index = _delete_index(self._vocabulary)
            return self._index


def _delete_index(vocabulary: Iterable[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for word_id, word in enumerate(vocabulary):
        if len(word) < MIN_WORD:
            continue
        for form in deletes(word[:PREFIX]):
            ids = index.get(form)
            if ids is None:
                index[form] = [word_id]
            else:
                ids.append(word_id)
    return index
