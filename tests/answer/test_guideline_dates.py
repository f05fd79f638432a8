"""The year a guideline dates itself by, and the note saying which quoted guideline is newer."""

from __future__ import annotations

import pytest

from assistant.answer.dates import recency_notes
from assistant.ingest.chunking import Chunk
from assistant.ingest.metadata import describe
from assistant.ingest.parser import parse_document
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query


@pytest.mark.parametrize(
    ("head", "year"),
    [
        ("# Asthma guideline\n\nPublished: 2019. It cites Smith 2023.\n\nGive salbutamol.\n", 2019),
        ("# Asthma\n\nSalbutamol helped (Smith 2019).\n\n## References\n\n1. Jones K. Asthma. BMJ. 2020.\n", None),
        ("# Asthma\n\nFirst issued 2012. Last reviewed: March 2021.\n\nGive salbutamol.\n", 2021),
        ("# Asthma\n\n© 2020 The Society. Smith 2022 is cited.\n\nGive salbutamol.\n", 2020),
        ("# 2014 AHA/ACC guideline on valves\n\nGive aspirin.\n", 2014),
        ("# Asthma\n\nGive salbutamol.\n", None),
    ],
)
def test_the_year_is_the_one_the_guideline_dates_itself_by(head: str, year: int | None) -> None:
    assert describe(parse_document(head, "g.md"), [], "raw").year == year


def _hit(source: str, title: str, year: int | None) -> Hit:
    chunk = Chunk(id=source, text="Give aspirin.", citations=[], source=source, title=title, section=None,
                  context=None, start=0, end=13, year=year)  # fmt: skip
    return Hit(chunk=chunk, score=1.0, dense=0.9, bm25=1.0, rank=1)


def _query(drugs: tuple[str, ...] = ("aspirin",)) -> Query:
    return Query(text="aspirin?", normalized="aspirin?", expanded="aspirin?", expansions=(), dose_intent=False,
                 drugs=drugs, conditions=())  # fmt: skip


@pytest.mark.parametrize(
    ("hits", "drugs", "newest"),
    [
        ([_hit("a.md", "Old guideline", 2014), _hit("b.md", "New guideline", 2021)], ("aspirin",), "New guideline (2021)"),
        ([_hit("a.md", "One", 2014), _hit("b.md", "Two", 2014)], ("aspirin",), None),  # same year: nothing to say
        ([_hit("a.md", "One", 2014), _hit("b.md", "Two", None)], ("aspirin",), None),  # one undated
        ([_hit("a.md", "One", 2014), _hit("a.md", "One", 2014)], ("aspirin",), None),  # one guideline
        ([_hit("a.md", "Old", 2014), _hit("b.md", "New", 2021)], (), None),  # no drug or condition asked about
    ],
)
def test_the_newer_guideline_is_named_when_quotes_differ_in_year(hits, drugs, newest) -> None:
    notes = recency_notes(_query(drugs), hits)
    if newest is None:
        assert notes == []
    else:
        assert len(notes) == 1 and f"{newest} is the newer" in notes[0] and "Old guideline (2014)" in notes[0]
