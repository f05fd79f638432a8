"""On the development library (when this machine has it): every gold item's evidence is one statement.

The library is third-party material for internal evaluation and is never committed; without it
this module skips with a message. It checks the whole ingest stage on real files: PDFs (columns,
running heads, hyphenation, tables), Markdown and text tables, reference lists and repairs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.evaluation.gold import load_gold
from assistant.ingest.files import load_corpus

LIBRARY = Path(__file__).resolve().parents[2].parent / "shared" / "library"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (LIBRARY / "corpus").is_dir(), reason=f"development library not found at {LIBRARY}"),
]


def _collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def library():  # type: ignore[no-untyped-def]
    corpus = load_corpus(LIBRARY / "corpus")
    items = load_gold(LIBRARY / "gold_dev.jsonl")
    meta = json.loads((LIBRARY / "gold_dev_meta.json").read_text(encoding="utf-8"))
    return corpus, items, meta


def test_every_document_is_indexed_pdfs_included(library) -> None:  # type: ignore[no-untyped-def]
    corpus, _, _ = library
    sources = {parsed.document.source for parsed in corpus.files}
    files = {p.relative_to(LIBRARY / "corpus").as_posix() for p in (LIBRARY / "corpus").rglob("*") if p.is_file()}
    guidelines = {f for f in files if f.endswith((".md", ".txt", ".pdf"))}
    assert guidelines <= sources, f"not indexed: {sorted(guidelines - sources)}; problems: {corpus.problems}"
    pdfs = [parsed for parsed in corpus.files if parsed.document.source.endswith(".pdf")]
    assert pdfs and all(parsed.source_text.pages for parsed in pdfs)


def test_every_evidence_string_is_inside_one_statement_of_its_source(library) -> None:  # type: ignore[no-untyped-def]
    corpus, items, meta = library
    statements = {
        parsed.document.source: [_collapse(s.text) for s in parsed.document.statements] for parsed in corpus.files
    }
    missing = []
    for item in items:
        source = meta.get(item.id, {}).get("source")
        if item.abstain or not source:
            continue
        for evidence in item.evidence:
            if not any(_collapse(evidence) in text for text in statements.get(source, [])):
                missing.append((item.id, item.tags, evidence))
    assert not missing, f"{len(missing)} evidence strings are not one statement: {missing[:10]}"


def test_statements_are_exact_spans_of_the_text_they_index(library) -> None:  # type: ignore[no-untyped-def]
    corpus, _, _ = library
    for parsed in corpus.files:
        text = parsed.source_text.text
        for statement in parsed.document.statements:
            assert text[statement.start : statement.end] == statement.text, parsed.document.source
