"""Bad questions through the real assistant: it answers, abstains, or raises InputError; nothing else escapes.

Generated questions cover arbitrary Unicode, control characters, right-to-left
text, emoji, lone surrogates (what undecodable argv bytes become), Markdown and
HTML, and lengths from 0 to well past the 2,000-character limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from assistant.answer import ABSTAIN_MESSAGE, Answer
from assistant.errors import InputError
from assistant.retrieval.query import clean_question

PROJECT_ROOT = Path(__file__).resolve().parent.parent
QUESTION_EXAMPLES = 80
LIMIT = 2000

CONTROL = st.characters(min_codepoint=0, max_codepoint=0x1F) | st.sampled_from(["\x7f", "\u200b", "\u200e", "\ufeff"])
RTL = st.characters(min_codepoint=0x0590, max_codepoint=0x06FF) | st.sampled_from(["\u202e", "\u202b", "\u2067"])
EMOJI = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF) | st.sampled_from(["\u200d", "\ufe0f", "🏳️‍🌈"])
SURROGATE = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
MARKUP = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<b>IVIG</b>",
        "**dose**",
        "# heading",
        "[link](javascript:alert(1))",
        "`code`",
        "| a | b |\n|---|---|",
        "[red]rich markup[/red]",
        "{{question}}",
        "{question}",
        "%s %d",
        "\\",
        "' OR 1=1 --",
        "../../etc/passwd",
    ]
)
MEDICAL = st.sampled_from(["IVIG", "dose", "warm AIHA", "rituximab", "1 g/kg", "2 g/kg", "corticosteroids", "?"])
PIECES = st.one_of(st.text(max_size=20), CONTROL, RTL, EMOJI, SURROGATE, MARKUP, MEDICAL)
QUESTIONS = st.lists(PIECES, max_size=25).map(" ".join) | st.text(max_size=300)


def _check(assistant, question: object) -> Answer | InputError:
    """The only two acceptable outcomes, each checked for what it promises."""
    try:
        answer = assistant.ask(question)
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return exc
    assert isinstance(answer, Answer)
    if answer.abstained:
        assert answer.answer == ABSTAIN_MESSAGE and answer.quotes == []
    else:
        assert answer.quotes
        for quote in answer.quotes:
            raw = assistant.document(quote.source).raw
            assert raw[quote.start : quote.end] == quote.text  # verbatim, whatever was asked
    return answer


@settings(max_examples=QUESTION_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=QUESTIONS)
@example(question="")
@example(question=" \t\n\r ")
@example(question="\x00\x01\x02")
@example(question="😀😀😀")
@example(question="\ud800 what dose of IVIG? \udcff")
@example(question="مرحبا IVIG ما هي الجرعة؟")
@example(question="\u202eAHIA mraw ni GIVI fo esod\u202c")
@example(question="<script>alert('x')</script> What dose of IVIG?")
@example(question="What dose of IVIG?" + "\x00" * 50)
def test_any_question_is_answered_abstained_or_refused_as_input(assistant, question: str) -> None:
    _check(assistant, question)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(length=st.integers(min_value=LIMIT - 3, max_value=LIMIT + 3), filler=st.sampled_from(["a", "é", "IVIG ", "😀"]))
@example(length=LIMIT, filler="IVIG ")
@example(length=LIMIT + 1, filler="IVIG ")
@example(length=50_000, filler="dose ")
def test_question_length_limit(assistant, length: int, filler: str) -> None:
    question = ("What dose of IVIG? " + filler * length)[:length]
    outcome = _check(assistant, question)
    cleaned = len(question.strip())
    if cleaned > LIMIT:
        assert isinstance(outcome, InputError) and f"{LIMIT:,}" in str(outcome)
    else:
        assert isinstance(outcome, Answer)


@pytest.mark.parametrize("question", [None, 42, b"What dose of IVIG?", ["IVIG"], {"q": 1}])
def test_a_question_that_is_not_text_is_an_input_error(assistant, question: object) -> None:
    with pytest.raises(InputError, match="must be text"):
        assistant.ask(question)  # type: ignore[arg-type]


def test_markup_in_a_question_is_kept_as_text_not_interpreted(assistant) -> None:
    question = "<b>What dose</b> of <i>IVIG</i> in warm AIHA? <script>alert(1)</script>"
    answer = assistant.ask(question)
    assert answer.question == question  # the UI and CLI receive the text as typed; they must escape it
    assert "<script>" not in answer.answer  # the composed Markdown never echoes the question's HTML


@settings(max_examples=200, deadline=None)
@given(question=st.text(max_size=2100) | st.lists(PIECES, max_size=30).map("".join))
def test_clean_question_returns_clean_text_or_input_error(question: str) -> None:
    """The input check alone, over many more cases than go through the model."""
    try:
        cleaned = clean_question(question, LIMIT)
    except InputError:
        return
    assert cleaned == cleaned.strip() and 0 < len(cleaned) <= LIMIT
    assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in cleaned)
    assert not any(ord(ch) < 0x20 and ch not in "\t\n\r" for ch in cleaned)
    cleaned.encode("utf-8")  # always encodable, so the tokenizer can take it


# --------------------------------------------------------------------------- through the CLI


def _cli(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "COLUMNS": "400", "NO_COLOR": "1"}
    command: list[str | bytes] = [sys.executable, "-m", "assistant.cli", *args]
    return subprocess.run(command, capture_output=True, timeout=300, env=env, cwd=PROJECT_ROOT)


@pytest.mark.parametrize(
    ("question", "exit_code"),
    [("", 2), ("   ", 2), ("\x01\x02", 2), ("x" * (LIMIT + 1), 2), ("!!!", 2)],
    ids=["empty", "blank", "control-only", "too-long", "no-words"],
)
def test_cli_refuses_bad_questions_with_exit_2_and_no_traceback(question: str, exit_code: int) -> None:
    done = _cli("ask", question)
    assert done.returncode == exit_code
    assert b"Traceback" not in done.stderr and done.stdout == b""
    assert done.stderr.decode().startswith("Error:")


@pytest.mark.slow
def test_cli_survives_undecodable_bytes_and_markup_in_a_question(settings) -> None:
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    done = _cli("ask", b"What dose of IVIG \xff\xfe in warm AIHA? [red]x[/red] <b>y</b>", "--json", *where)
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    answer = Answer.model_validate_json(done.stdout)
    assert "[red]x[/red] <b>y</b>" in answer.question
