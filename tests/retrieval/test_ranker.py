"""The learned ranker: the shipped file loads and ranks deterministically, train-ranker stores a model
the next load uses, and a damaged or foreign model falls back to the shipped one with a note."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from assistant.retrieval.features import FEATURES, StatementTable, feature_matrix
from assistant.retrieval.ranker import Ranker, load_model, parse_model, shipped_model_text


@pytest.fixture
def small_library(two_guideline_library):
    return two_guideline_library[0]


def test_the_shipped_model_reads_exactly_the_features_computed():
    text = shipped_model_text()
    assert text is not None, "assistant/data/ranker.txt must ship with the package"
    model = parse_model(text, "shipped")
    assert list(model.booster.feature_name()) == list(FEATURES)  # type: ignore[attr-defined]


def test_the_ranker_orders_the_same_way_every_time(assistant):
    query = assistant.searcher.analyze("What IVIG dose is used in warm AIHA?")
    hits = assistant.searcher.search(query, k=30)
    first = assistant.ranker.rank(query, hits)
    second = Ranker.load(assistant.searcher.chunks, None).rank(query, hits)
    assert [h.chunk.id for h in first] == [h.chunk.id for h in second]
    assert [h.learned for h in first] == [h.learned for h in second]
    assert [h.rank for h in first] == list(range(1, len(first) + 1))
    learned = [h.learned for h in first]
    assert learned == sorted(learned, reverse=True)


def test_the_answer_and_the_langchain_retriever_use_the_same_ranking(assistant):
    question = "Can IVIG replace steroids?"
    retrieved = assistant.retriever.invoke(question, k=5)
    ranked = assistant.retrieve(question, k=5)
    assert [doc.id for doc in retrieved] == [hit.chunk.id for hit in ranked[:5]]
    assert all(doc.metadata["learned_score"] is not None for doc in retrieved)


@pytest.mark.parametrize(
    ("question", "statement", "feature", "expected"),
    [
        ("What dose of amoxicillin?", "The recommended amoxicillin dose is 80 mg/kg/day divided into two doses for 10 days. [2]", "drug_dosed", 1.0),
        ("What dose of amoxicillin?", "Amoxicillin is the first-line antibiotic for acute otitis media. [1]", "drug_dosed", 0.0),
        ("What dose of amoxicillin?", "Amoxicillin is the first-line antibiotic for acute otitis media. [1]", "drug_named", 1.0),
        ("How long to treat sinusitis in adults?", "Treat for 5 to 7 days in adults with uncomplicated disease. [2]", "quantity_stated", 1.0),
        ("Is a CT scan needed for sinusitis?", "Imaging is not recommended for uncomplicated acute sinusitis. [4]", "negates", 1.0),
        ("Which antibiotic for bacterial sinusitis?", "Intranasal saline irrigation may relieve symptoms. [3]", "recommends", 0.0),
    ],
)
def test_features_read_general_properties(small_library, question, statement, feature, expected):
    from assistant import Assistant

    assistant = Assistant.load(settings=small_library)
    query = assistant.searcher.analyze(question)
    wanted = statement.rsplit(" [", 1)[0]
    hits = [hit for hit in assistant.searcher.search(query, k=20) if hit.chunk.text.startswith(wanted)]
    assert hits, statement
    matrix = feature_matrix(query, hits, StatementTable(assistant.searcher.chunks))
    assert matrix.shape == (1, len(FEATURES))
    assert matrix[0, FEATURES.index(feature)] == pytest.approx(expected)


def test_train_ranker_stores_a_model_the_next_load_uses(small_library, two_guideline_library):
    from assistant import Assistant
    from assistant.cli import app

    gold = two_guideline_library[1]
    before = Assistant.load(settings=small_library)
    assert before.ranker.origin == "shipped"
    args = ["train-ranker", "--gold", str(gold), "--corpus", str(small_library.corpus_dir), "--index", str(small_library.index_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    stored = small_library.index_dir / "ranker.txt"
    assert stored.is_file()
    after = Assistant.load(settings=small_library)
    assert after.ranker.origin == "index"
    answer = after.ask("What dose of amoxicillin for an ear infection in a child?")
    assert not answer.abstained and "80 mg/kg/day" in answer.quotes[0].text
    # A rebuild of the index keeps the library's own ranker.
    Assistant.build(small_library, incremental=False)
    assert stored.is_file() and Assistant.load(settings=small_library).ranker.origin == "index"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("tree\nversion=v4\nthis is not a model\n", "not a LightGBM model"),
        ("\x00\x01 binary junk", "not a LightGBM model"),
    ],
)
def test_a_damaged_stored_model_falls_back_to_the_shipped_one_with_a_note(small_library, content, why):
    path = small_library.index_dir / "ranker.txt"
    path.write_text(content, encoding="utf-8")
    model, notes = load_model(small_library.index_dir)
    assert model is not None and model.origin == "shipped"
    assert len(notes) == 1 and str(path) in notes[0] and "train-ranker" in notes[0]


def test_a_model_trained_on_other_features_is_not_used(small_library):
    import lightgbm

    data = lightgbm.Dataset(np.random.default_rng(0).random((40, 3)), label=[0, 1] * 20, group=[10] * 4)
    booster = lightgbm.train({"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 1}, data, num_boost_round=2)
    (small_library.index_dir / "ranker.txt").write_text(booster.model_to_string(), encoding="utf-8")
    model, notes = load_model(small_library.index_dir)
    assert model is not None and model.origin == "shipped"
    assert "features" in notes[0]


def test_train_ranker_refuses_a_gold_file_it_cannot_learn_from(small_library, tmp_path):
    from assistant.cli import app

    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "x", "question": "What dose?", "evidence": ["words in no statement"]}) + "\n")
    args = ["train-ranker", "--gold", str(gold), "--corpus", str(small_library.corpus_dir), "--index", str(small_library.index_dir)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "cannot train a ranker" in result.output and "Traceback" not in result.output
    assert not (small_library.index_dir / "ranker.txt").exists()


def test_a_rebuild_ranks_the_new_statements(small_library):
    from assistant import Assistant

    assistant = Assistant.load(settings=small_library)
    (small_library.corpus_dir / "otitis-media.md").write_text(
        "# Otitis\n\nAmoxicillin 90 mg/kg/day is an alternative high dose. [1]\n", encoding="utf-8"
    )
    assistant.rebuild()
    assert assistant.ranker.table.chunks is assistant.searcher.chunks
    assert any("90 mg/kg/day" in hit.chunk.text for hit in assistant.retrieve("high dose amoxicillin", k=3))
