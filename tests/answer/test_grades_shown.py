"""Grades shown where a clinician looks, and the "strong recommendations only" filter, end to end.

A guideline written by the test (ACC/AHA classes over numbered lists, a legend)
is indexed with the real model and FAISS; answers come from the real Assistant,
and the API from a real uvicorn server on a loopback port.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from rich.console import Console

from assistant import Assistant
from assistant.answer import Answer
from assistant.api import create_app
from assistant.errors import InputError
from assistant.present import grade_badge
from assistant.present.terminal import renderables
from assistant.settings import Settings

VALVE = """# 2014 AHA/ACC guideline for valvular heart disease

## Aortic stenosis

Class I

1. Surgical aortic valve replacement is recommended for symptomatic patients with severe aortic stenosis. (Level of Evidence: A)

Class IIb

1. Aortic valve replacement may be considered for asymptomatic patients with very severe aortic stenosis. (Level of Evidence: C)

## Anticoagulation

Warfarin is reasonable after mechanical aortic valve replacement to achieve an INR of 2.5.

## Definitions

- Class I: Benefit >>> Risk. Procedure/Treatment should be performed/administered.
- Class IIb: Benefit ≥ Risk. Procedure/Treatment may be considered.
"""
QUESTION = "Should asymptomatic patients with very severe aortic stenosis have aortic valve replacement?"


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assistant, str]:
    root = tmp_path_factory.mktemp("graded")
    (root / "corpus").mkdir()
    (root / "corpus" / "valve.md").write_text(VALVE, encoding="utf-8")
    return Assistant.load(settings=Settings(corpus_dir=root / "corpus", index_dir=root / "index")), VALVE


def _graded_quote(answer: Answer, opening: str):
    return next(quote for quote in answer.quotes if quote.text.startswith(opening))


def test_each_quote_carries_its_grade_verbatim_with_the_legend(graded) -> None:
    assistant, raw = graded
    answer = assistant.ask(QUESTION)
    quote = _graded_quote(answer, "Aortic valve replacement may be considered")
    grade = quote.grade
    assert grade is not None and raw[grade.start : grade.end] == grade.text == "(Level of Evidence: C)"
    assert (grade.system, grade.strength, grade.evidence, grade.heading) == ("ACC/AHA", "weak", "low", "Class IIb")
    assert grade.meaning == "Benefit ≥ Risk. Procedure/Treatment may be considered."
    dumped = answer.model_dump(mode="json")["quotes"][answer.quotes.index(quote)]["grade"]
    assert {"system", "strength", "evidence", "text", "start", "end", "meaning"} <= set(dumped)


def test_the_badge_is_in_the_markdown_and_the_terminal(graded) -> None:
    assistant, _ = graded
    answer = assistant.ask(QUESTION)
    quote = _graded_quote(answer, "Aortic valve replacement may be considered")
    assert grade_badge(quote) == "Class IIb · LOE C"
    assert "Grade: Class IIb · LOE C" in answer.markdown
    console = Console(record=True, width=100)
    for part in renderables(answer):
        console.print(part)
    shown = console.export_text()
    assert "Grade: Class IIb · LOE C" in shown and "Benefit ≥ Risk" in shown


@pytest.mark.parametrize(
    ("minimum", "allowed"),
    [("strong", {"strong", "against"}), ("weak", {"strong", "conditional", "weak", "against"})],
)
def test_min_strength_quotes_only_recommendations_graded_that_strong(graded, minimum: str, allowed: set[str]) -> None:
    assistant, _ = graded
    unfiltered = assistant.ask(QUESTION)
    assert any(quote.grade is None or quote.grade.strength == "weak" for quote in unfiltered.quotes) or minimum == "weak"
    answer = assistant.ask(QUESTION, min_strength=minimum)
    assert answer.quotes, "a graded statement answers it"
    assert all(quote.grade is not None and quote.grade.strength in allowed for quote in answer.quotes)
    assert any("grade filter on" in note for note in answer.notes)


def test_min_strength_can_be_a_setting_and_a_bad_value_is_one_clear_line(graded) -> None:
    assistant, _ = graded
    with pytest.raises(InputError, match="min_strength must be one of strong, conditional, weak"):
        assistant.ask(QUESTION, min_strength="very")
    filtered = Assistant(assistant.searcher, assistant.settings.with_overrides(min_strength="strong"))
    assert all(quote.grade and quote.grade.strength == "strong" for quote in filtered.ask(QUESTION).quotes)


@contextmanager
def _running(app) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_the_api_returns_grades_and_takes_min_strength(graded) -> None:
    assistant, _ = graded
    with _running(create_app(assistant)) as url:
        plain = httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=60).json()
        strong = httpx.post(f"{url}/ask", json={"question": QUESTION, "min_strength": "strong"}, timeout=60).json()
        bad = httpx.post(f"{url}/ask", json={"question": QUESTION, "min_strength": "very"}, timeout=60)
    assert any(quote["grade"] and quote["grade"]["strength"] == "weak" for quote in plain["quotes"])
    assert strong["quotes"] and all(quote["grade"]["strength"] == "strong" for quote in strong["quotes"])
    assert bad.status_code == 422 and "min_strength" in bad.text


def test_markdown_of_an_ungraded_quote_has_no_badge(graded) -> None:
    assistant, _ = graded
    answer = assistant.ask("What INR is warfarin aimed at after mechanical valve replacement?")
    quote = _graded_quote(answer, "Warfarin is reasonable")
    assert quote.grade is None and grade_badge(quote) is None
