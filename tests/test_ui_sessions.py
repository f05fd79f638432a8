"""Several Streamlit sessions at once on one server process: each keeps its own conversation.

The loaded assistant is shared (a cached resource, as on a real server); the
conversations must not be. Questions carrying HTML are shown as text, never as HTML.
"""

from __future__ import annotations

import re
import sys
import threading
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP = PROJECT_ROOT / "ui" / "app.py"
TIMEOUT = 120  # the first run in a process loads the model; sessions share two CPUs

if not APP.is_file():  # pragma: no cover - the page is written in parallel with these tests
    pytest.skip("ui/app.py does not exist yet, so there is no page to open sessions on", allow_module_level=True)

from streamlit.testing.v1 import AppTest  # noqa: E402

if str(PROJECT_ROOT) not in sys.path:  # `ui` is a folder of the project, not an installed package
    sys.path.insert(0, str(PROJECT_ROOT))

from ui import render, scroll  # noqa: E402

UNESCAPED_TAG = re.compile(r"(?<!\\)<\s*(?:img|script|b)\b", re.IGNORECASE)  # "\<b" shows "<b" as text
CONVERSATIONS = {
    "dose": ["What IVIG dose is used in warm AIHA?", "Should I give IVIG 10 g/kg?"],
    "markup": ["<img src=x onerror=alert(1)> <b>Is rituximab</b> used?", "<script>alert('x')</script> steroids first line?"],
    "off-topic": ["What is the capital of France?", "When is splenectomy considered?"],
}


@pytest.fixture
def pointed(monkeypatch: pytest.MonkeyPatch, settings, assistant) -> None:
    """Sessions over the session fixture's corpus and index (already built by ``assistant``)."""
    monkeypatch.setenv("GUIDELINE_ASSISTANT_CORPUS_DIR", str(settings.corpus_dir))
    monkeypatch.setenv("GUIDELINE_ASSISTANT_INDEX_DIR", str(settings.index_dir))


def _open() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _ask(at: AppTest, question: str) -> None:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]


def _user_questions(at: AppTest) -> list[str]:
    return [message.markdown[0].value for message in at.chat_message if message.name == "user"]


def _assert_no_html(at: AppTest) -> None:
    """Nothing on the page is rendered as HTML except the page's own fixed style block and scroll script."""
    for element in [*at.markdown, *at.caption, *at.sidebar.markdown]:
        assert not element.proto.allow_html, element.value
    fixed = {render.PAGE_STYLE, *(scroll.script(turns) for turns in range(100))}  # the script's one number
    assert all(element.value in fixed for element in at.html)
    for element in [*at.markdown, *at.caption, *at.warning, *at.info, *at.error]:
        assert not UNESCAPED_TAG.search(element.value), element.value


def test_interleaved_sessions_keep_their_own_conversations(pointed, assistant) -> None:
    sessions = {name: _open() for name in CONVERSATIONS}
    for turn in range(2):
        for name, at in sessions.items():
            _ask(at, CONVERSATIONS[name][turn])
    for name, at in sessions.items():
        expected = [render.escape_markdown(question) for question in CONVERSATIONS[name]]
        assert _user_questions(at) == expected, name
        assert len([m for m in at.chat_message if m.name == "assistant"]) == 2
        assert len(at.session_state.turns) == 2
        assert [turn.question for turn in at.session_state.turns] == CONVERSATIONS[name]
        for turn in at.session_state.turns:
            if turn.answer is not None:  # what the page holds is what the shared assistant answers
                fresh = assistant.ask(turn.question, k=assistant.settings.k)
                assert [q.chunk_id for q in turn.answer.quotes] == [q.chunk_id for q in fresh.quotes]
        _assert_no_html(at)


def test_concurrent_sessions_in_threads_keep_their_own_conversations(pointed) -> None:
    sessions = {name: _open() for name in CONVERSATIONS}
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(sessions))

    def converse(name: str, at: AppTest) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            for question in CONVERSATIONS[name]:
                _ask(at, question)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=converse, args=item) for item in sessions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 3)
    assert not errors, errors
    for name, at in sessions.items():
        assert [turn.question for turn in at.session_state.turns] == CONVERSATIONS[name], name
        assert _user_questions(at) == [render.escape_markdown(q) for q in CONVERSATIONS[name]]
        _assert_no_html(at)


def test_a_new_session_starts_with_an_empty_conversation(pointed) -> None:
    first = _open()
    _ask(first, CONVERSATIONS["dose"][0])
    second = _open()
    assert list(second.chat_message) == []
    assert second.session_state.turns == []
    assert len(first.session_state.turns) == 1
