"""What a question shares with this library: the corpus-dependent half of its analysis.

:func:`~assistant.retrieval.query.build_query` reads a question on its own (spelling,
synonyms, drugs, conditions). Whether its words are the library's words needs the
library: typo correction against the corpus vocabulary, the named things and rare
words the library never uses (``unknown_terms``, ``unfamiliar_terms``), lay phrases
whose guideline terms no statement uses, the terms of art it shares with the
library (``domain_terms``), and, per guideline, the share of those terms it uses
(``coverage``). :class:`QuestionAnalyzer` holds what those need, built once from the
statements; it searches nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from wordfreq import zipf_frequency

from assistant.ingest.chunking import Chunk
from assistant.retrieval.query import Query, build_query
from assistant.retrieval.spelling import Speller
from assistant.retrieval.terms import STEM, STOPWORDS, bm25_tokens, eponyms, is_rare_name, looks_like_quantity
from assistant.settings import Settings
from assistant.vocabulary.drugs import find_drugs
from assistant.vocabulary.lexicon import medical_lexicon
from assistant.vocabulary.normalizer import QueryNormalizer, default_normalizer, words


class QuestionAnalyzer:
    """The corpus-dependent analysis of questions over one set of statements; cheap to call after it is built."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        settings: Settings,
        normalizer: QueryNormalizer | None = None,
        tokens: Sequence[list[str]] | None = None,
    ) -> None:
        """``tokens`` are the statements' BM25 tokens when the caller has them already (the searcher does)."""
        self.chunks = chunks
        self.settings = settings
        self.normalizer = normalizer or default_normalizer()
        tokens = tokens if tokens is not None else [bm25_tokens(chunk.search_text) for chunk in chunks]
        self._document_terms: dict[str, set[str]] = {}
        for chunk, chunk_tokens in zip(chunks, tokens, strict=True):
            self._document_terms.setdefault(chunk.source, set()).update(chunk_tokens)
        self._vocabulary = sorted({token for chunk in chunks for token in words(chunk.search_text)})
        self.speller = Speller(self._vocabulary)  # typo index, built on the first unknown word
        self._known = frozenset(self._vocabulary)
        self._known_stems = frozenset(STEM(self._vocabulary)) if STEM else self._known
        self._rare_stems: frozenset[str] | None = None  # built on first use: only unfamiliar words need it
        self._lowered: list[str] | None = None  # normalized statement texts, built on the first lay phrase
        self._phrases: dict[str, bool] = {}
        self._corrected: dict[str, list[str]] = {}  # token -> its correction, asked several times per question

    def analyze(self, question: str) -> Query:
        """The one :class:`Query` for a question: its own analysis plus what it shares with this corpus."""
        query = build_query(question, self.normalizer)
        if not query.drugs:  # "rituxamab dose": the typo-corrected word names the drug
            corrected = " ".join(self.spelling_corrections(query.normalized))
            query = replace(query, drugs=tuple(dict.fromkeys(m.key for m in find_drugs(corrected))))
        return replace(
            query,
            domain_terms=tuple(self.domain_terms(query)),
            unknown_terms=tuple(self.unknown_terms(query)),
            unfamiliar_terms=tuple(self.unfamiliar_terms(query)),
        )

    def coverage(self, query: Query, sources: set[str]) -> dict[str, float]:
        """For each guideline, the share of the question's specific terms it uses anywhere.

        A statement that is merely similar, from a guideline that never names what the
        question is about ("Bell's palsy" answered from a tuberculosis guideline), is a
        quote from the wrong guideline; selection holds such statements to a higher bar.
        """
        terms = [bm25_tokens(term) for term in dict.fromkeys((*query.domain_terms, *query.unfamiliar_terms))]
        terms = [stems for stems in terms if stems]
        if not terms:
            return {}
        result = {}
        for source in sources:
            known = self._document_terms.get(source, set())
            result[source] = sum(all(stem in known for stem in stems) for stems in terms) / len(terms)
        return result

    def unknown_terms(self, query: Query) -> list[str]:
        """Named things in the question that the corpus never mentions ("Kawasaki", "warfarin").

        A word counts when the corpus does not use it (after spelling
        normalization, synonym expansion, stemming and typo correction) and it
        names a condition, test or drug (from the data files or a telling
        suffix), or is a rare capitalized name or abbreviation. Such a question
        asks about something the guideline may not cover, so the chain holds it
        to a stricter relevance bar.
        """
        question = query.text
        covered = self._covered(query)
        surfaces = {surface.lower(): surface for surface in re.findall(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*", question)}
        first = next(iter(surfaces), "")
        unknown: list[str] = []
        for token in words(query.normalized):
            if token in unknown or self._is_known(token, covered) or looks_like_quantity(token):
                continue
            named = token in eponyms(question) or medical_lexicon().names(token)
            if named or is_rare_name(surfaces.get(token, token), token == first):
                unknown.append(token)
        return unknown + self._untranslated_lay_phrases(query)

    def _untranslated_lay_phrases(self, query: Query) -> list[str]:
        """Lay phrases ("ear wax", "head lice") whose guideline terms the library never uses.

        Their words are everyday English, so nothing else marks the question as being about
        a subject this library does not cover; the vocabulary says what the subject is.
        """
        found = []
        for phrase, terms in self.normalizer.translations(query.text):
            if phrase in self.normalizer.lay and phrase not in self.normalizer.brands:
                if not self._says(phrase) and not any(self._says(term) for term in terms):
                    found.append(phrase)
        return found

    def _says(self, term: str) -> bool:
        """Whether some statement contains the term as written ("heat stroke", not "heat" and "stroke" apart).

        A linear scan, but only for the few lay phrases a question contains, and cached.
        """
        if len(words(term)) < 2:
            return self._uses(term)
        if term not in self._phrases:
            pattern = re.compile(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])")
            if self._lowered is None:
                self._lowered = [self.normalizer.normalize(chunk.search_text) for chunk in self.chunks]
            self._phrases[term] = any(pattern.search(text) for text in self._lowered)
        return self._phrases[term]

    def unfamiliar_terms(self, query: Query) -> list[str]:
        """Rare words of the question that the corpus never uses, named things or not ("impetigo", "verruca").

        :meth:`unknown_terms` only counts words that look like names (data files, suffixes,
        capitals), so a lay or uncommon condition name slipped through and the nearest
        statement of an unrelated guideline was quoted. A word rarer than
        ``settings.unfamiliar_zipf`` in general English that no statement uses (after
        spelling, synonyms, stemming and typo correction) is specific to a subject this
        library may not cover.
        """
        covered = self._covered(query)
        found: list[str] = []
        for token in words(query.normalized):
            if len(token) < 4 or not token.replace("-", "").isalpha() or token in found:
                continue
            if zipf_frequency(token, "en") >= self.settings.unfamiliar_zipf or self._is_known(token, covered):
                continue
            if self._builds_on_a_known_term(token):
                continue
            found.append(token)
        return found

    def _builds_on_a_known_term(self, token: str) -> bool:
        """ "thromboprophylaxis" builds on the corpus's "prophylactic": a derived word, not a new subject.

        The test is a shared stem of seven letters with a rare corpus word, so related forms
        (prophylaxis/prophylactic) count while everyday fragments ("grown" in "ingrown") do not.
        """
        if self._rare_stems is None:
            self._rare_stems = frozenset(
                word[:7]
                for word in self._vocabulary
                if len(word) >= 8 and word.isalpha() and zipf_frequency(word, "en") < 4.0
            )
        return any(token[i : i + 7] in self._rare_stems for i in range(len(token) - 6))

    def domain_terms(self, query: Query) -> list[str]:
        """Question words (or their synonyms) that the corpus uses and general English rarely does.

        "refractory", "IVIG", "splenectomy" say a question is about the guideline's
        subject; "treat", "best", "patient" do not.
        """
        found: list[str] = []
        for token in words(query.expanded):
            if token in STOPWORDS or token in found:
                continue
            if token in self._known or (
                zipf_frequency(token, "en") < self.settings.unfamiliar_zipf and self._known_by_stem(token)
            ):
                # A hyphenated compound the corpus uses ("second-line", "high-dose") is a term
                # of art even when its parts are everyday words.
                if "-" in token or zipf_frequency(token, "en") < self.settings.rare_word_zipf:
                    found.append(token)
        return found

    def _known_by_stem(self, token: str) -> bool:
        """ "anticoagulate" is the library's "anticoagulation", "transfuse" its "transfusions".

        Only for words rare in English: "cooled" sharing a stem with "cooling" says nothing
        about the subject.
        """
        if len(token) < 5 or not token.isalpha() or STEM is None:
            return False
        return STEM([token])[0] in self._known_stems

    def _covered(self, query: Query) -> set[str]:
        """Question words that stand for something the library does use, through a synonym or lay translation.

        "EpiPen" is covered when the library says "adrenaline"; "rabies jab" is not
        covered just because the vocabulary knows it, when no guideline mentions rabies.
        """
        covered: set[str] = set()
        for term, alternatives in self.normalizer.translations(query.text):
            lay = term in self.normalizer.lay
            used = [alt for alt in alternatives if (self._uses(alt) if lay else self._uses_a_specific_word(alt))]
            if used or self._uses(term):
                covered |= set(words(term)) | {token for alt in used for token in words(alt)}
        return covered

    def _uses_a_specific_word(self, term: str) -> bool:
        """For a synonym ("bruton tyrosine kinase"): the library uses one of its rare words.

        "cold agglutinin disease" is not covered by a library that says "disease" but never
        "agglutinin"; "BTK" is covered by one that says "tyrosine kinase".
        """
        tokens = words(term)
        rare = [token for token in tokens if zipf_frequency(token, "en") < self.settings.rare_word_zipf]
        if not rare:
            return self._uses(term)
        return any(self._uses(token) for token in rare)

    def _uses(self, term: str) -> bool:
        """Whether the library uses every word of a term (directly or as a stem)."""
        tokens = words(term)
        if not tokens:
            return False
        if all(token in self._known for token in tokens):
            return True
        stems = STEM(tokens) if STEM else tokens
        return all(stem in self._known_stems for stem in stems)

    def _is_known(self, token: str, covered: set[str]) -> bool:
        if token in self._known or token in covered or token in STOPWORDS or len(token) < 3:
            return True
        if "-" in token:
            return all(self._is_known(part, covered) for part in token.split("-") if part)
        singular = token[:-1] if token.endswith("s") else token
        stems = STEM([token, singular]) if STEM else [token, singular]
        return any(stem in self._known_stems for stem in stems) or bool(self.spelling_corrections(token))

    def spelling_corrections(self, text: str) -> list[str]:
        """Corpus words close to query words the corpus does not contain ("rituximb" -> "rituximab")."""
        corrections: list[str] = []
        for token in words(text):
            if len(token) < 5 or token in self._known or token in STOPWORDS or token.isdigit():
                continue
            if token not in self._corrected:
                if len(self._corrected) > 10_000:  # a long-running server meets many words
                    self._corrected.clear()
                self._corrected[token] = self.speller.correct(token)
            corrections.extend(self._corrected[token])
        return corrections
