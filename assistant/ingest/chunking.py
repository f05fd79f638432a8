"""Statements -> chunks: one statement per chunk, with its context for search only.

The context (document title › section › lead-in sentence of a bullet) helps both
the embedding and BM25 find a statement, but only the statement's own text is
ever quoted, so a quote never carries words the statement does not contain.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict

from assistant.ingest.parser import Corpus, Document, Statement

# Bump when the way chunks are cut or described changes: a saved index built
# with another version is stale and gets rebuilt.
CHUNKER_VERSION = "2"


class Chunk(BaseModel):
    """One quotable statement and everything needed to cite it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    text: str
    citations: list[str]
    source: str
    title: str
    section: str | None
    context: str | None
    start: int
    end: int

    @property
    def search_text(self) -> str:
        """What is embedded and BM25-indexed: context path, then the statement."""
        path = " › ".join(part for part in (self.title, self.section) if part)
        lead = f" › {self.context}" if self.context else ""
        return f"{path}{lead}\n{self.text}"


def chunk_id(source: str, statement: Statement) -> str:
    """Stable across rebuilds while the file's text does not change."""
    key = f"{source}\x00{statement.start}\x00{statement.end}\x00{statement.text}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def chunk_document(document: Document) -> list[Chunk]:
    return [
        Chunk(
            id=chunk_id(document.source, statement),
            text=statement.text,
            citations=list(statement.citations),
            source=document.source,
            title=document.title,
            section=statement.section,
            context=statement.lead_in,
            start=statement.start,
            end=statement.end,
        )
        for statement in document.statements
    ]


def chunk_corpus(corpus: Corpus) -> list[Chunk]:
    return [chunk for document in corpus.documents for chunk in chunk_document(document)]
