"""An eponym plus a condition noun names a condition even when the name is an everyday word."""

from __future__ import annotations

import pytest

from assistant.retrieval.terms import eponyms


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Should prednisolone be given for Bell's palsy?", "bell's"),
        ("How is Paget's disease of bone treated?", "paget's"),
        ("Raynaud phenomenon in winter", "raynaud"),
    ],
)
def test_eponyms_are_found(question: str, expected: str) -> None:
    assert expected in eponyms(question)


@pytest.mark.parametrize("question", ["What IVIG dose is used in warm AIHA?", "Is Monday a good day to start?"])
def test_no_eponym_without_a_condition_noun(question: str) -> None:
    assert eponyms(question) == set()
