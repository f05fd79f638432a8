"""Hybrid retrieval and the LangChain retriever contract."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant.retrieval.retriever import GuidelineRetriever
from assistant.vocabulary.normalizer import QueryNormalizer, default_normalizer


class TestGuidelineRetrieverStandard(RetrieversIntegrationTests):
    """LangChain's own standard suite, against the real index."""

    params: dict[str, Any] = {}

    @pytest.fixture(autouse=True)
    def _point_at_session_index(self, settings, assistant) -> None:
        type(self).params = {"corpus_dir": settings.corpus_dir, "index_dir": settings.index_dir}

    @property
    def retriever_constructor(self) -> type[GuidelineRetriever]:
        return GuidelineRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self.params

    @property
    def retriever_query_example(self) -> str:
        return "What IVIG dose is used in warm AIHA?"


def test_constructible_with_no_arguments(monkeypatch, settings, assistant) -> None:
    monkeypatch.setenv("GUIDELINE_ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("GUIDELINE_ASSISTANT_INDEX_DIR", str(settings.index_dir))
    documents = GuidelineRetriever().invoke("rituximab dose")
    assert len(documents) == settings.k, "one k: the retriever's default is the settings' k"


def test_documents_carry_chunk_fields_and_scores(settings, assistant) -> None:
    retriever = GuidelineRetriever(k=2, corpus_dir=settings.corpus_dir, index_dir=settings.index_dir)
    documents = retriever.invoke("What rituximab dose is used in refractory warm AIHA?")
    assert all(isinstance(d, Document) for d in documents)
    meta = documents[0].metadata
    for key in ("id", "text", "citations", "source", "section", "context", "start", "end", "score", "dense_score"):
        assert key in meta
    raw = (settings.corpus_dir / meta["source"]).read_text()
    assert raw[meta["start"] : meta["end"]] == documents[0].page_content


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be >= 1"):
        GuidelineRetriever(k=0)


@pytest.mark.parametrize(
    ("question", "evidence"),
    [
        ("What IVIG dose is used in warm AIHA?", "1 g/kg as a single dose"),
        ("intravenous immunoglobulin dosing in autoimmune haemolytic anaemia", "1 g/kg as a single dose"),
        ("starting prednisone regimen", "prednisone 1 mg/kg/day"),
        ("Is plasmapheresis used in refractory cases?", "Therapeutic plasma exchange"),
        ("Should EPO be given?", "Recombinant erythropoietin"),
        ("Is MMF an option?", "mycophenolate mofetil"),
        ("rituximb dose", "375 mg/m²"),
        ("blood thinners in severe hemolysis", "Prophylactic anticoagulation"),
        ("Can IVIG be used as maintenance?", "Do not use IVIG as maintenance therapy"),
        ("Which SYK inhibitors are in development?", "fostamatinib"),
    ],
)
def test_hybrid_retrieval_finds_the_statement(assistant, question: str, evidence: str) -> None:
    hits = assistant.searcher.search(question, k=assistant.settings.k)
    assert any(evidence in hit.chunk.text for hit in hits), [h.chunk.text[:60] for h in hits]


def test_search_is_deterministic(assistant) -> None:
    first = [h.chunk.id for h in assistant.searcher.search("IVIG in refractory AIHA", k=5)]
    second = [h.chunk.id for h in assistant.searcher.search("IVIG in refractory AIHA", k=5)]
    assert first == second


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("IVIG in warm AIHA", ["intravenous immunoglobulin", "autoimmune hemolytic anemia"]),
        ("TPE or plasmapheresis", ["therapeutic plasma exchange"]),
        ("steroids first", ["corticosteroids"]),
        ("EPO dose", ["erythropoietin"]),
        ("MMF", ["mycophenolate mofetil"]),
        ("FcRn blockers", ["neonatal fc receptor"]),
        ("SYK", ["spleen tyrosine kinase"]),
        ("BTK inhibitors", ["bruton tyrosine kinase"]),
    ],
)
def test_query_expansion_from_data_file(question: str, expected: list[str]) -> None:
    expansions = default_normalizer().expansions(question)
    assert all(term in expansions for term in expected), expansions


def test_british_spelling_is_normalized() -> None:
    assert default_normalizer().normalize("Haemolytic anaemia, randomised") == "hemolytic anemia, randomized"


def test_normalizer_reads_its_data_not_code() -> None:
    custom = QueryNormalizer.from_json('{"spelling": {"colour": "color"}, "synonyms": [["abc", "alpha beta"]]}')
    assert custom.normalize("Colour") == "color"
    assert custom.expansions("ABC") == ["alpha beta"]


@pytest.mark.parametrize(
    ("question", "unknown"),
    [
        ("What is the IVIG dose for Kawasaki disease?", ["kawasaki"]),
        ("How do I reverse warfarin with an INR of 9?", ["warfarin", "inr"]),
        ("What IVIG dose is used in warm AIHA?", []),
        ("rituximb dose for refractory aiha", []),
    ],
)
def test_unknown_terms(assistant, question: str, unknown: list[str]) -> None:
    assert list(assistant.searcher.analyze(question).unknown_terms) == unknown


def test_every_statement_is_reachable(assistant) -> None:
    """Asked in its own words, each statement is retrieved and shown: quoted, or as the lead-in of its bullets."""
    for chunk in assistant.searcher.chunks:
        assert chunk.id in [hit.chunk.id for hit in assistant.searcher.search(chunk.text, k=5)], chunk.text
        answer = assistant.ask(chunk.text)
        shown = {quote.chunk_id for quote in answer.quotes} | {quote.context for quote in answer.quotes}
        assert chunk.id in shown or chunk.text in shown, chunk.text
