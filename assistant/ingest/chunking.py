"""Statements -> chunks: one statement per chunk, with its context for search only.

The context (document title › section › lead-in sentence of a bullet) helps both
the embedding and BM25 find a statement, but only the statement's own text is
ever quoted, so a quote never carries words the statement does not contain.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field

from assistant.ingest.files import Corpus, ParsedFile
from assistant.ingest.grades import grades_for
from assistant.ingest.parser import Statement
from assistant.vocabulary.grades import Grade

# Bump when the way chunks are cut or described changes: a saved index built
# with another version is stale and gets rebuilt.
CHUNKER_VERSION = "5"  # 5: each statement carries its grade (assistant.ingest.grades)


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
    page: int | None = Field(default=None, description="1-based page index in a PDF; None for unpaged files.")
    page_label: str | None = Field(default=None, description="The printed page label where the PDF defines one.")
    offsets: str = Field(default="raw", description="'raw': start/end index the file; 'canonical': the stored text.")
    kind: str = Field(default="sentence", description="sentence, bullet or table_row.")
    references: dict[str, str] = Field(default_factory=dict, description="Reference entries for this chunk's labels.")
    grade: Grade | None = Field(default=None, description="The guideline's grade for this statement, verbatim, if any.")
    year: int | None = Field(default=None, description="The guideline's publication or review year, when it states one.")

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


def chunk_file(parsed: ParsedFile) -> list[Chunk]:
    """Every statement of one guideline as a chunk, with its page and the reference entries it cites."""
    document, text, references = parsed.document, parsed.source_text, parsed.meta.references
    chunks = []
    grades = grades_for(document)
    for statement in document.statements:
        page = text.page_at(statement.start)
        chunks.append(
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
                page=page.number if page else None,
                page_label=page.label if page else None,
                offsets=text.offsets,
                kind=statement.kind,
                references={label: references[label] for label in statement.citations if label in references},
                grade=grades.get((statement.start, statement.end)),
                year=parsed.meta.year,
            )
        )
    return chunks


def chunk_corpus(corpus: Corpus) -> list[Chunk]:
    return [chunk for parsed in corpus.files for chunk in chunk_file(parsed)]
