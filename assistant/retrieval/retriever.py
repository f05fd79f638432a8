"""The LangChain face of the searcher: a ``BaseRetriever`` returning LangChain ``Document`` objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, PrivateAttr

from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.retrieval.searcher import HybridSearcher
from assistant.settings import Settings


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """The chunk's fields plus its scores, as LangChain Document metadata."""
    return {**hit.chunk.model_dump(), "score": hit.score, "dense_score": hit.dense, "bm25_score": hit.bm25, "rank": hit.rank}


class GuidelineRetriever(BaseRetriever):
    """A LangChain retriever over the guideline index.

    ``GuidelineRetriever()`` uses the project's ``corpus/`` and ``index/``;
    ``GuidelineRetriever(k=3, corpus_dir=..., index_dir=...)`` points elsewhere.
    ``invoke(query, k=...)`` overrides ``k`` for one call. ``documents=[...]`` (on the retriever
    or per call) restricts retrieval to those guidelines, as ``Assistant.ask(documents=...)`` does.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    k: int | None = None
    corpus_dir: Path | None = None
    index_dir: Path | None = None
    settings: Settings | None = None
    documents: list[str] | None = None
    _searcher: HybridSearcher | None = PrivateAttr(default=None)

    def __init__(self, searcher: HybridSearcher | None = None, **data: Any) -> None:
        super().__init__(**data)
        if self.k is not None and self.k < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        self._searcher = searcher

    @property
    def searcher(self) -> HybridSearcher:
        if self._searcher is None:
            base = self.settings or Settings()
            self._searcher = HybridSearcher.open(
                base.with_overrides(corpus_dir=self.corpus_dir, index_dir=self.index_dir)
            )
        return self._searcher

    def hits(
        self,
        query: Query | str,
        k: int | None = None,
        timings: dict[str, float] | None = None,
        documents: list[str] | None = None,
    ) -> list[Hit]:
        """Hits for a question; ``k=None`` means this retriever's ``k``, else the settings' ``k``."""
        searcher = self.searcher
        analysed = searcher.analyze(query) if isinstance(query, str) else query
        analysed = searcher.restrict(analysed, documents if documents is not None else self.documents)
        return searcher.search(analysed, k=k if k is not None else self.k, timings=timings)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        documents: list[str] | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        return [
            Document(page_content=hit.chunk.text, metadata=hit_metadata(hit), id=hit.chunk.id)
            for hit in self.hits(query, k=k, documents=documents)
        ]
