"""Choosing which guidelines to ask, and follow-up questions that keep the conversation's subject."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant
from assistant.errors import InputError, UnknownDocumentError
from assistant.retrieval.retriever import GuidelineRetriever

AIHA = (Path(__file__).resolve().parents[2] / "corpus" / "ivig-in-aiha.txt").read_text(encoding="utf-8")
SINUSITIS = """# Acute sinusitis: antimicrobial prescribing

## Choice of antibiotic

Offer amoxicillin 500 mg three times a day for 5 days to adults with acute sinusitis who need an antibiotic.

## Children

For children with acute sinusitis, offer amoxicillin 40 mg/kg per day in 3 divided doses for 5 days.
"""
PNEUMONIA = """# Community-acquired pneumonia in adults

## Antibiotic therapy

Offer amoxicillin 1 g three times a day for 5 days to adults with moderate-severity community-acquired pneumonia.

Offer clarithromycin 500 mg twice a day for 5 days to adults who are allergic to penicillin.
"""


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder) -> Assistant:
    root = tmp_path_factory.mktemp("library")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in {"aiha.txt": AIHA, "sinusitis.md": SINUSITIS, "pneumonia.md": PNEUMONIA}.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.load(corpus, root / "index")


@pytest.mark.parametrize(
    ("documents", "allowed"),
    [
        (["sinusitis.md"], {"sinusitis.md"}),
        (["pneumonia.md"], {"pneumonia.md"}),
        (["pneumonia.md", "sinusitis.md"], {"pneumonia.md", "sinusitis.md"}),
    ],
)
def test_a_document_filter_restricts_every_quote(library: Assistant, documents: list[str], allowed: set[str]) -> None:
    answer = library.ask("What dose of amoxicillin should adults get?", documents=documents)
    assert answer.quotes, "the chosen guidelines do give amoxicillin doses"
    assert {quote.source for quote in answer.quotes} <= allowed
    assert answer.documents == documents


def test_a_filter_on_a_guideline_that_does_not_cover_the_question_abstains(library: Assistant) -> None:
    answer = library.ask("What IVIG dose is used in warm AIHA?", documents=["pneumonia.md"])
    assert answer.abstained or all(quote.source == "pneumonia.md" for quote in answer.quotes)
    assert not any("1 g/kg" in quote.text for quote in answer.quotes)


@pytest.mark.parametrize("documents", [["nope.md"], ["sinusitis.md", "Sinusitis"], ["../aiha.txt"]])
def test_an_unknown_document_is_a_clear_error_listing_the_real_ones(library: Assistant, documents: list[str]) -> None:
    with pytest.raises(UnknownDocumentError) as raised:
        library.ask("amoxicillin dose", documents=documents)
    message = str(raised.value)
    assert "\n" not in message and all(name in message for name in library.sources)


@pytest.mark.parametrize("documents", ["sinusitis.md", [""], [3]])
def test_a_malformed_document_filter_is_an_input_error(library: Assistant, documents: object) -> None:
    with pytest.raises(InputError):
        library.ask("amoxicillin dose", documents=documents)  # type: ignore[arg-type]


def test_the_langchain_retriever_takes_the_same_filter(library: Assistant) -> None:
    retriever = GuidelineRetriever(searcher=library.searcher, documents=["sinusitis.md"])
    documents = retriever.invoke("amoxicillin dose for adults")
    assert documents and {doc.metadata["source"] for doc in documents} == {"sinusitis.md"}
    per_call = retriever.invoke("amoxicillin dose for adults", documents=["pneumonia.md"])
    assert {doc.metadata["source"] for doc in per_call} == {"pneumonia.md"}


@pytest.mark.parametrize(
    ("turns", "expect_in_asked_as", "expect_quote"),
    [
        (["What IVIG dose is used in warm AIHA?", "how often can it be repeated?"], "IVIG", "1 g/kg"),
        (["What IVIG dose is used in warm AIHA?", "what about rituximab?"], "rituximab", "375 mg/m²"),
        (["What dose of amoxicillin for acute sinusitis in adults?", "and in children?"], "sinusitis", "40 mg/kg"),
    ],
)
def test_a_follow_up_keeps_the_subject(
    library: Assistant, turns: list[str], expect_in_asked_as: str, expect_quote: str
) -> None:
    conversation = library.new_conversation()
    for question in turns[:-1]:
        assert library.ask(question, conversation=conversation).asked_as is None
    answer = library.ask(turns[-1], conversation=conversation)
    assert answer.asked_as and expect_in_asked_as.lower() in answer.asked_as.lower()
    assert answer.question == turns[-1]
    assert any(expect_quote in quote.text for quote in answer.quotes), [q.text for q in answer.quotes]


def test_without_a_conversation_a_follow_up_is_not_rewritten(library: Assistant) -> None:
    answer = library.ask("what about rituximab?")
    assert answer.asked_as is None


@pytest.mark.parametrize(
    "second",
    [
        "What dose of clarithromycin for pneumonia in penicillin allergy?",
        "How is acute sinusitis treated in adults?",
        "What is the capital of France?",
    ],
)
def test_a_new_standalone_question_is_not_treated_as_a_follow_up(library: Assistant, second: str) -> None:
    conversation = library.new_conversation()
    library.ask("What IVIG dose is used in warm AIHA?", conversation=conversation)
    answer = library.ask(second, conversation=conversation)
    assert answer.asked_as is None
    assert not any(quote.source == "aiha.txt" for quote in answer.quotes)


def test_a_subject_does_not_pile_up_over_turns(library: Assistant) -> None:
    conversation = library.new_conversation()
    library.ask("What IVIG dose is used in warm AIHA?", conversation=conversation)
    library.ask("and how often?", conversation=conversation)
    answer = library.ask("for how long?", conversation=conversation)
    assert answer.asked_as == "What IVIG dose is used in warm AIHA: for how long?"
