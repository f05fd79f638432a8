"""Hybrid retrieval: dense (FAISS) and BM25 (bm25s), fused by reciprocal rank.

Dense search finds paraphrases and lay wording; BM25 finds exact drug names,
abbreviations and numbers that a small embedding model blurs. Reciprocal-rank
fusion needs no score calibration between the two, which is why it is used
rather than a weighted sum. Every hit keeps its dense cosine as well, because
that absolute number is what the chain uses to decide whether the corpus
addresses the question at all.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace
from typing import Any

import bm25s
import faiss
import numpy as np
from wordfreq import zipf_frequency

from assistant.errors import UnknownDocumentError
from assistant.index.build import ensure_index
from assistant.index.embeddings import Embedder, get_embedder
from assistant.index.store import LoadedIndex, Progress
from assistant.retrieval.dose_lookup import dose_statements
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query, build_query
from assistant.retrieval.spelling import Speller
from assistant.retrieval.terms import (
    STEM,
    STOPWORDS,
    bm25_tokens,
    eponyms,
    is_rare_name,
    looks_like_quantity,
    unique,
)
from assistant.settings import Settings
from assistant.vocabulary.drugs import find_drugs
from assistant.vocabulary.lexicon import medical_lexicon
from assistant.vocabulary.normalizer import QueryNormalizer, default_normalizer, words


class HybridSearcher:
    """Searches one loaded index; cheap to call, expensive to build (holds the model)."""

    def __init__(
        self,
        loaded: LoadedIndex,
        embedder: Embedder,
        settings: Settings,
        normalizer: QueryNormalizer | None = None,
    ) -> None:
        self.loaded = loaded
        self.chunks = loaded.chunks
        self.embedder = embedder
        self.settings = settings
        self.normalizer = normalizer or default_normalizer()
        # b=0.5 (not 0.75): statements that list many drugs are long, and full length
        # normalization would bury the one rare name a question asks about.
        self._bm25 = bm25s.BM25(k1=1.2, b=0.5)
        tokens = [bm25_tokens(chunk.search_text) or ["_"] for chunk in self.chunks]
        self._bm25.index(tokens, show_progress=False)
        self._document_terms: dict[str, set[str]] = {}
        for chunk, chunk_tokens in zip(self.chunks, tokens, strict=True):
            self._document_terms.setdefault(chunk.source, set()).update(chunk_tokens)
        self._vocabulary = sorted({token for chunk in self.chunks for token in words(chunk.search_text)})
        self._speller = Speller(self._vocabulary)  # typo index, built on the first unknown word
        self._known = frozenset(self._vocabulary)
        self._known_stems = frozenset(STEM(self._vocabulary)) if STEM else self._known
        self._rare_stems: frozenset[str] | None = None  # built on first use: only unfamiliar words need it
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.chunks):
            rows.setdefault(chunk.source, []).append(row)
        self._rows_by_source = {source: np.asarray(found, dtype=np.int64) for source, found in rows.items()}
        self._lowered: list[str] | None = None  # normalized statement texts, built on the first lay phrase
        self._phrases: dict[str, bool] = {}
        self._corrected: dict[str, list[str]] = {}  # token -> its correction, asked several times per question
        self.dosed_drugs: dict[str, list[tuple[int, frozenset[str]]]] = {}  # per source, see dose_lookup
        self._last = threading.local()  # this thread's current question and its vector  # recent query embeddings (the chain asks twice per question)

    @classmethod
    def open(cls, settings: Settings, progress: Progress | None = None, notify: Any = None) -> HybridSearcher:
        """Load (building or rebuilding when needed) the index named by the settings."""
        embedder = get_embedder(settings.model)
        loaded = ensure_index(settings, embedder, progress=progress, notify=notify)
        return cls(loaded, embedder, settings)

    # ------------------------------------------------------------------ search

    @property
    def sources(self) -> list[str]:
        """Every guideline in the index, as quotes name it (``quotes[].source``)."""
        return sorted(self._rows_by_source)

    def restrict(self, query: Query, documents: list[str] | tuple[str, ...] | None) -> Query:
        """The query limited to these guidelines, or an :class:`UnknownDocumentError` listing the real ones."""
        if not documents:
            return query
        names = tuple(dict.fromkeys(str(name).strip() for name in documents))
        unknown = [name for name in names if name not in self._rows_by_source]
        if unknown:
            available = self.sources
            shown = ", ".join(available[:12]) + (f" and {len(available) - 12} more" if len(available) > 12 else "")
            raise UnknownDocumentError(
                f"No guideline named {', '.join(repr(n) for n in unknown)} in this library. "
                f"Available: {shown or 'none'}."
            )
        return replace(query, documents=names)

    def _allowed_rows(self, query: Query) -> np.ndarray | None:
        if not query.documents:
            return None
        return np.concatenate([self._rows_by_source[source] for source in query.documents])

    def query_terms(self, query: Query | str) -> tuple[list[str], list[str]]:
        """BM25 tokens of the question itself (typos corrected) and of its synonyms only, each once."""
        query = self.analyze(query) if isinstance(query, str) else query
        normalized = query.normalized
        own = unique(bm25_tokens(normalized) + bm25_tokens(" ".join(self._spelling_corrections(normalized))))
        extra = unique(bm25_tokens(" ".join(query.expansions)))
        vocab = self._bm25.vocab_dict
        return [t for t in own if t in vocab], [t for t in extra if t in vocab and t not in own]

    def search(self, query: Query | str, k: int | None = None, timings: dict[str, float] | None = None) -> list[Hit]:
        """The ``k`` best statements for a question (``k=None``: the settings' ``k``, validated there)."""
        query = self.analyze(query) if isinstance(query, str) else query
        k = self.settings.k if k is None else k
        if not self.chunks:
            return []
        started = time.perf_counter()
        query_vector = self.embedder.encode_query(query.expanded)
        self._last.vector = (query.expanded, query_vector)
        if timings is not None:
            timings["embed"] = (time.perf_counter() - started) * 1000
        allowed = self._allowed_rows(query)
        dense_rank = self._dense(query_vector, allowed)
        lexical = self._lexical(query, allowed)
        coverage = self.coverage(query, {self.chunks[i].source for i in (*dense_rank, *lexical)})
        hits = self._fuse(dense_rank, lexical, query_vector, k, coverage)
        if timings is not None:
            timings["retrieve"] = (time.perf_counter() - started) * 1000
        return hits

    def encode(self, text: str) -> np.ndarray:
        """The query embedding: the one :meth:`search` just made in this thread, else a fresh one.

        Only the current question's vector is reused (the dose lookup needs it again), so a
        repeated question is always embedded again and timings stay honest.
        """
        last = getattr(self._last, "vector", None)
        if last is not None and last[0] == text:
            return last[1]
        return self.embedder.encode_query(text)

    def dose_statements(self, query: Query, hits: list[Hit]) -> list[Hit]:
        """Statements giving an asked drug's dose in the best guidelines (see :mod:`~assistant.retrieval.dose_lookup`)."""
        return dose_statements(self, query, hits)

    def rows_of(self, source: str) -> list[int]:
        """The positions of one guideline's statements in :attr:`chunks`."""
        return self._rows_by_source.get(source, np.asarray([], dtype=np.int64)).tolist()

    def cosine(self, row: int, query_vector: np.ndarray) -> float:
        return self._cosine(row, query_vector)

    def _dense(self, query_vector: np.ndarray, allowed: np.ndarray | None = None) -> dict[int, float]:
        """Nearest statements by cosine; with a document filter, only among that filter's rows.

        FAISS's OpenMP threads thrash like torch's on a busy machine (16 ms vs 1.1 ms for 25,000
        statements with one thread): a question's search uses ``query_threads``.
        """
        faiss.omp_set_num_threads(self.settings.query_threads)
        if allowed is None:
            count = min(self.settings.candidates, len(self.chunks))
            scores, ids = self.loaded.faiss_index.search(query_vector, count)
        else:
            count = min(self.settings.candidates, len(allowed))
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(allowed))  # type: ignore[call-arg]
            scores, ids = self.loaded.faiss_index.search(query_vector, count, params=params)
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=False) if i >= 0}

    def _lexical(self, query: Query, allowed: np.ndarray | None = None) -> dict[int, float]:
        """BM25 over the question's own terms, plus synonyms at half weight.

        Synonyms are alternatives, not extra evidence: at full weight a query
        expanded with five names for "refractory" would outweigh the one rare
        drug name the question is really about.
        """
        own, extra = self.query_terms(query)
        if not own and not extra:
            return {}
        scores = self._bm25.get_scores(own) if own else np.zeros(len(self.chunks), dtype=np.float32)
        if extra:
            scores = scores + 0.5 * self._bm25.get_scores(extra)
        if allowed is not None:
            mask = np.zeros(len(self.chunks), dtype=bool)
            mask[allowed] = True
            scores = np.where(mask, scores, 0.0)
        count = min(self.settings.candidates, len(self.chunks))
        top = np.argsort(-scores, kind="stable")[:count]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

    def _fuse(
        self, dense: dict[int, float], lexical: dict[int, float], query_vector: np.ndarray, k: int, coverage: dict[str, float]
    ) -> list[Hit]:
        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            ordered = sorted(ranking, key=lambda i: -ranking[i])
            for rank, idx in enumerate(ordered):
                fused[idx] = fused.get(idx, 0.0) + 1.0 / (self.settings.rrf_k + rank + 1)
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [
            Hit(
                chunk=self.chunks[idx],
                score=fused[idx],
                dense=dense[idx] if idx in dense else self._cosine(idx, query_vector),
                bm25=lexical.get(idx, 0.0),
                rank=rank,
                coverage=coverage.get(self.chunks[idx].source, 1.0),
            )
            for rank, idx in enumerate(order, start=1)
        ]

    def _cosine(self, idx: int, query_vector: np.ndarray) -> float:
        vector = self.loaded.faiss_index.reconstruct(idx)
        return float(np.dot(vector, query_vector[0]))

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

    def analyze(self, question: str) -> Query:
        """The one :class:`Query` for a question: its own analysis plus what it shares with this corpus."""
        query = build_query(question, self.normalizer)
        if not query.drugs:  # "rituxamab dose": the typo-corrected word names the drug
            corrected = " ".join(self._spelling_corrections(query.normalized))
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
        return any(stem in self._known_stems for stem in stems) or bool(self._spelling_corrections(token))

    def _spelling_corrections(self, text: str) -> list[str]:
        """Corpus words close to query words the corpus does not contain ("rituximb" -> "rituximab")."""
        corrections: list[str] = []
        for token in words(text):
            if len(token) < 5 or token in self._known or token in STOPWORDS or token.isdigit():
                continue
            if token not in self._corrected:
                if len(self._corrected) > 10_000:  # a long-running server meets many words
                    self._corrected.clear()
                self._corrected[token] = self._speller.correct(token)
            corrections.extend(self._corrected[token])
        return corrections
