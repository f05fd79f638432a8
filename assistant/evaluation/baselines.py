"""Baseline retrievers the evaluation compares the assistant with.

Each one answers ``retrieve(question, k) -> list[RetrievedText]`` so the
evaluation can judge them all the same way: does a returned text contain a gold
evidence string, at which rank, and how many characters did the reader get?

* :class:`LangChainRecipe`: the LangChain RAG tutorial's recipe, i.e.
  ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)`` over the
  raw guideline files, the same MiniLM model, a flat FAISS index, top 4. The
  vectors live in a plain ``faiss.IndexFlatIP`` built in memory (LangChain's
  FAISS vector store would pickle its docstore on save; nothing is saved here).
  MiniLM's output is L2-normalized, so inner product ranks exactly as the
  tutorial's L2 distance does.
* :class:`BM25Only` and :class:`DenseOnly`: one half each of the assistant's
  hybrid search over the assistant's own statement chunks, with the raw question
  (no synonym expansion, no typo correction, no fusion), to show what the
  hybrid and the query normalization add.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import bm25s
import faiss
import numpy as np

from assistant.index.embeddings import Embedder
from assistant.ingest.chunking import Chunk
from assistant.ingest.files import load_corpus
from assistant.retrieval.terms import bm25_tokens

LANGCHAIN_CHUNK_SIZE = 1000
LANGCHAIN_CHUNK_OVERLAP = 200
LANGCHAIN_TOP_K = 4


@dataclass(frozen=True)
class RetrievedText:
    """One passage a system returned, in rank order; ``chars`` is what a reader must read."""

    id: str
    text: str
    source: str
    start: int | None
    chars: int
    score: float


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")


if TYPE_CHECKING:
    from assistant.assistant import Assistant


class LangChainRecipe:
    """The LangChain tutorial recipe: 1000/200 character splits, MiniLM, FAISS, a fixed top 4."""

    name = "langchain_recipe"
    label = "LangChain recipe (1000/200 splits, top 4)"

    def __init__(self, corpus_dir: Path, embedder: Embedder, top_k: int = LANGCHAIN_TOP_K) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        _check_k(top_k)
        self.top_k: int | None = top_k
        self._depth = top_k
        self.embedder = embedder
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=LANGCHAIN_CHUNK_SIZE, chunk_overlap=LANGCHAIN_CHUNK_OVERLAP, add_start_index=True
        )
        self.passages: list[RetrievedText] = []
        for document in load_corpus(Path(corpus_dir)).documents:
            for split in splitter.create_documents([document.raw], metadatas=[{"source": document.source}]):
                start = split.metadata.get("start_index")
                self.passages.append(
                    RetrievedText(
                        id=f"lc:{document.source}:{len(self.passages)}",
                        text=split.page_content,
                        source=document.source,
                        start=start if isinstance(start, int) and start >= 0 else None,
                        chars=len(split.page_content),
                        score=0.0,
                    )
                )
        self.index = faiss.IndexFlatIP(embedder.dimension)
        if self.passages:
            self.index.add(embedder.encode([passage.text for passage in self.passages]))

    def collection(self) -> list[tuple[str, str]]:
        return [(passage.id, passage.text) for passage in self.passages]

    def retrieve(self, question: str, k: int | None = None) -> list[RetrievedText]:
        """The ``k`` (default: the recipe's 4) splits closest to the question."""
        k = self._depth if k is None else k
        _check_k(k)
        if not self.passages:
            return []
        scores, ids = self.index.search(self.embedder.encode_query(question), min(k, len(self.passages)))
        return [_with_score(self.passages[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


class BM25Only:
    """BM25 (bm25s, the assistant's tokenizer and parameters) over the assistant's chunks, raw question."""

    name = "bm25_only"
    label = "BM25 only (project chunks)"
    top_k = None  # the run's k, like the assistant

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self._bm25 = bm25s.BM25(k1=1.2, b=0.5)
        if chunks:
            self._bm25.index([bm25_tokens(chunk.search_text) or ["_"] for chunk in chunks], show_progress=False)

    def collection(self) -> list[tuple[str, str]]:
        return [(chunk.id, chunk.text) for chunk in self.chunks]

    def retrieve(self, question: str, k: int) -> list[RetrievedText]:
        _check_k(k)
        tokens = [token for token in bm25_tokens(question) if token in getattr(self._bm25, "vocab_dict", {})]
        if not self.chunks or not tokens:
            return []
        scores = self._bm25.get_scores(tokens)
        top = np.argsort(-scores, kind="stable")[:k]
        return [_from_chunk(self.chunks[int(i)], float(scores[i])) for i in top if scores[i] > 0]


class DenseOnly:
    """Cosine search in the assistant's own FAISS index with the raw question embedded."""

    name = "dense_only"
    label = "Dense only (project chunks)"
    top_k = None  # the run's k, like the assistant

    def __init__(self, chunks: list[Chunk], faiss_index: faiss.Index, embedder: Embedder) -> None:
        self.chunks = chunks
        self.faiss_index = faiss_index
        self.embedder = embedder

    def collection(self) -> list[tuple[str, str]]:
        return [(chunk.id, chunk.text) for chunk in self.chunks]

    def retrieve(self, question: str, k: int) -> list[RetrievedText]:
        _check_k(k)
        if not self.chunks:
            return []
        scores, ids = self.faiss_index.search(self.embedder.encode_query(question), min(k, len(self.chunks)))
        return [_from_chunk(self.chunks[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def _from_chunk(chunk: Chunk, score: float) -> RetrievedText:
    return RetrievedText(
        id=chunk.id, text=chunk.text, source=chunk.source, start=chunk.start, chars=len(chunk.text), score=score
    )


def _with_score(passage: RetrievedText, score: float) -> RetrievedText:
    return RetrievedText(passage.id, passage.text, passage.source, passage.start, passage.chars, score)


LABELS: dict[str, str] = {
    LangChainRecipe.name: LangChainRecipe.label,
    BM25Only.name: BM25Only.label,
    DenseOnly.name: DenseOnly.label,
}


def all_baselines(assistant: Assistant) -> list[LangChainRecipe | BM25Only | DenseOnly]:
    """The three baselines over the same corpus, model and chunks as ``assistant``."""
    searcher = assistant.searcher
    return [
        LangChainRecipe(assistant.settings.corpus_dir, searcher.embedder),
        BM25Only(searcher.chunks),
        DenseOnly(searcher.chunks, searcher.loaded.faiss_index, searcher.embedder),
    ]
