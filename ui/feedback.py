"""Under each answer: "Answered my question?", and on "no", the statement that does answer it.

A "no" opens a picker: the statements of the sections the answer quoted (the
whole-section view), or a word search of a chosen guideline, or "Not in these
guidelines". The verdict goes to ``Assistant.record_feedback`` (a line of the
feedback file beside the index), which ``guideline-assistant feedback export``
turns into gold questions for ``eval``, ``calibrate`` and ``train-ranker``.

Recording is on for a chat only this computer can reach (a loopback server
address). On a shared chat it is on only for a session unlocked with the admin
secret (``ui.access``), like every other change to the library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from assistant.errors import AssistantError
from ui import access

if TYPE_CHECKING:
    from assistant import Assistant
    from assistant.answer import Answer, Quote
    from assistant.settings import Settings

QUESTION = "Answered my question?"
NOT_IN_GUIDELINES = "Not in these guidelines"
THANKS = "Thank you: your answer was recorded beside the index, on this computer only."
PICK_HELP = "Pick the statement that answers the question; the next training and evaluation use it."
SHOWN_CHARS = 160


def recording_allowed(settings: Settings) -> bool:
    """Whether this chat may record feedback: a local chat always; a shared one only once unlocked with
    the admin secret, because feedback becomes gold that trains the library's ranker."""
    return access.session_unlocked(settings)


def ask_feedback(answer: Answer, assistant: Assistant | None, key: str) -> None:
    """The yes/no question under one answer, and the picker a "no" opens."""
    if assistant is None or not recording_allowed(assistant.settings):
        return
    done = st.session_state.get(f"fb-done-{key}")
    with st.container(key=f"ga-feedback-{key}"):
        if done:
            st.caption(done)
            return
        st.caption(QUESTION)
        with st.container(horizontal=True, gap="small"):  # the two buttons side by side, at phone width too
            if st.button("Yes", key=f"fb-yes-{key}", icon=":material/thumb_up:"):
                _record(assistant, answer, key, answered=True)
            if st.button("No", key=f"fb-no-{key}", icon=":material/thumb_down:"):
                st.session_state[f"fb-open-{key}"] = True
        if st.session_state.get(f"fb-open-{key}"):
            _picker(answer, assistant, key)


def _picker(answer: Answer, assistant: Assistant, key: str) -> None:
    """Choose the statement that answers the question: from the quoted sections, or by searching a guideline."""
    sources = assistant.sources
    first = answer.quotes[0].source if answer.quotes else (answer.documents or sources or [""])[0]
    source = st.selectbox("Guideline", sources, index=sources.index(first) if first in sources else 0, key=f"fb-doc-{key}")
    words = st.text_input("Search this guideline", key=f"fb-search-{key}", placeholder="words the statement contains")
    options = _candidates(answer, assistant, source, words)
    chosen = st.selectbox(
        "The statement that answers it",
        options,
        index=None,
        format_func=_label,
        key=f"fb-pick-{key}",
        help=PICK_HELP,
        placeholder="Choose a statement",
    )
    with st.container(horizontal=True, gap="small"):
        if st.button("Record this statement", key=f"fb-save-{key}", disabled=chosen is None, icon=":material/check:"):
            _record(assistant, answer, key, answered=False, statement=chosen)
        if st.button(NOT_IN_GUIDELINES, key=f"fb-none-{key}", icon=":material/block:"):
            _record(assistant, answer, key, answered=False, not_in_guidelines=True)


def _candidates(answer: Answer, assistant: Assistant, source: str, words: str) -> list[Quote]:
    """Search results when words are typed; else the whole sections the answer quoted from this guideline."""
    if words.strip():
        return assistant.statements(source, words)
    sections = {quote.section for quote in answer.quotes if quote.source == source}
    in_sections = [quote for quote in assistant.statements(source, limit=100_000) if quote.section in sections]
    return in_sections or assistant.statements(source)


def _label(quote: Quote) -> str:
    text = " ".join(quote.text.split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _record(
    assistant: Assistant, answer: Answer, key: str, answered: bool, statement: Quote | None = None,
    not_in_guidelines: bool = False,
) -> None:
    try:
        assistant.record_feedback(answer, answered, statement, not_in_guidelines)
    except AssistantError as exc:
        st.session_state[f"fb-done-{key}"] = f"Not recorded: {exc}"
    else:
        st.session_state[f"fb-done-{key}"] = THANKS
    st.session_state.pop(f"fb-open-{key}", None)
    st.rerun()
