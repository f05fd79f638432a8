"""The chat page: ``streamlit run ui/app.py`` (the README's ``make run``).

It answers through the same :class:`~assistant.Assistant` as the CLI and holds
no retrieval or dose logic of its own. Guideline and user text reach the page
only through ``ui.render.escape_markdown``; nothing is rendered as HTML.
The corpus and index folders come from ``Settings()``, so the environment
variables GUIDELINE_ASSISTANT_CORPUS_DIR / GUIDELINE_ASSISTANT_INDEX_DIR apply.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    from assistant.index.store import IndexStatus

# `streamlit run ui/app.py` puts ui/ on sys.path, not the project root that holds `ui`.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from assistant import Assistant  # noqa: E402
from assistant.answer import ABSTAIN_MESSAGE, Answer, Severity  # noqa: E402
from assistant.errors import AssistantError, IndexCorrupt, InputError, SettingsError  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from ui import render  # noqa: E402


@dataclass
class Turn:
    """One exchange of the conversation, kept in ``st.session_state.turns``."""

    question: str
    answer: Answer | None = None
    error: str | None = None


# --------------------------------------------------------------------------- loading


@st.cache_resource(show_spinner=False)
def _assistants() -> tuple[dict[tuple[str, str, str], Assistant], threading.Lock]:
    """Loaded assistants shared by every session of this server, one per (corpus, index, model).

    The pool (not the load itself) is the cached resource so that the build's
    progress bar is drawn live on the first start and never replayed afterwards.
    """
    return {}, threading.Lock()


def _key(settings: Settings) -> tuple[str, str, str]:
    return str(settings.corpus_dir.resolve()), str(settings.index_dir.resolve()), settings.model


def _progress_bar() -> Callable[[int, int], None]:
    bar = st.empty()

    def update(done: int, total: int) -> None:
        bar.progress(done / max(total, 1), text=f"Embedding guideline statements: {done}/{total}")

    return update


def load_assistant(settings: Settings) -> Assistant:
    """The server's assistant for these settings, loading (and on first start building) it once."""
    pool, lock = _assistants()
    with lock:
        if _key(settings) not in pool:
            first_build = not Assistant.index_status(settings).up_to_date
            label = "Building the search index (first start)…" if first_build else "Loading the model and index…"
            with st.status(label, expanded=first_build) as box:
                pool[_key(settings)] = Assistant.load(
                    settings=settings,
                    progress=_progress_bar(),
                    notify=lambda message: box.write(render.escape_markdown(message)),
                )
                manifest = pool[_key(settings)].manifest
                box.update(label=f"Index ready: {manifest.n_chunks} passages", state="complete", expanded=False)
        return pool[_key(settings)]


def rebuild_index(settings: Settings) -> bool:
    """Rebuild the index from the corpus (also the way out of a corrupt index); False if it failed."""
    pool, lock = _assistants()
    with st.status("Rebuilding the search index…", expanded=True) as box:
        try:
            with lock:
                current = pool.get(_key(settings))
                if current is not None:
                    current.rebuild(progress=_progress_bar())
                else:
                    Assistant.build(settings, _progress_bar())
        except AssistantError as exc:
            box.update(label="The index could not be rebuilt", state="error", expanded=True)
            st.error(render.escape_markdown(str(exc)))
            return False
        box.update(label="Index rebuilt", state="complete", expanded=False)
    return True


def ask(assistant: Assistant, question: str, k: int) -> Turn:
    try:
        return Turn(question, answer=assistant.ask(question, k=k))
    except InputError as exc:
        return Turn(question, error=str(exc))


# --------------------------------------------------------------------------- views


def show_index_status(status: IndexStatus) -> None:
    manifest = status.manifest
    if manifest is not None:
        st.markdown("**Guideline documents**")
        st.markdown("\n".join(f"- {render.escape_markdown(name)}" for name in sorted(manifest.corpus)) or "none")
        for problem in manifest.problems:
            st.warning(f"Skipped: {render.escape_markdown(problem)}", icon=":material/warning:")
        st.markdown("**Search index**")
        built = manifest.created_at.replace("T", " ").replace("+00:00", " UTC")
        st.markdown(
            f"{manifest.n_chunks} chunks · {manifest.n_documents} document(s)  \n"
            f"Model: {render.escape_markdown(manifest.model)}  \nBuilt: {render.escape_markdown(built)}"
        )
    if status.up_to_date:
        st.markdown(":green-badge[:material/check: up to date]")
    elif status.manifest is not None and status.exists:
        st.markdown(":orange-badge[:material/update: stale]")
        st.caption(render.escape_markdown(status.reason))
    else:
        st.error(render.escape_markdown(status.reason), icon=":material/error:")


def show_answer(answer: Answer, assistant: Assistant | None) -> None:
    """Flags first (they matter most), then the lead line, quotes with context, and the dose table."""
    alerts = {
        Severity.BLOCK: (st.error, ":material/dangerous:"),
        Severity.WARN: (st.warning, ":material/warning:"),
        Severity.INFO: (st.info, ":material/info:"),
    }
    for flag in sorted(answer.guardrail.flags, key=render.severity_rank):
        alert, icon = alerts[flag.severity]
        alert(render.flag_markdown(flag), icon=icon)
    if answer.abstained or not answer.quotes:
        st.info(
            f"**{render.ABSTAIN_TITLE}.** {render.escape_markdown(answer.lead or ABSTAIN_MESSAGE)} "
            "Try the terms the guideline uses, or check the documents listed in the sidebar.",
            icon=":material/menu_book:",
        )
        return
    if answer.summary_withheld:
        st.error(render.WITHHELD_NOTICE)
    st.markdown(render.escape_markdown(render.lead_line(answer)))
    for quote in answer.quotes:
        st.markdown(render.quote_markdown(quote))
        st.caption(render.escape_markdown(render.quote_location(quote)))
        with st.expander(f"Whole section: {render.escape_markdown(quote.section or quote.source)}"):
            try:
                context = render.section_markdown(assistant.document(quote.source), quote) if assistant else ""
            except AssistantError as exc:
                context = render.escape_markdown(str(exc))
            st.markdown(context or "The section text is not available.")
    if answer.doses:
        st.markdown("**Doses in the quoted statements**")
        st.table(render.dose_rows(answer), hide_index=True)
    citations = ", ".join(answer.citations) or "none"
    st.caption(f"Citations: {render.escape_markdown(citations)} · {answer.timings_ms.get('total', 0):.0f} ms")


def show_turn(turn: Turn, assistant: Assistant | None) -> None:
    with st.chat_message("user"):
        st.markdown(render.escape_markdown(turn.question))
    with st.chat_message("assistant"):
        if turn.error is not None:
            st.warning(render.escape_markdown(turn.error), icon=":material/edit_note:")
        elif turn.answer is not None:
            show_answer(turn.answer, assistant)


def show_problem(problem: AssistantError, settings: Settings) -> None:
    """A corpus, index or model problem: say what is wrong and offer the way out."""
    st.error(render.escape_markdown(str(problem)), icon=":material/error:")
    if isinstance(problem, IndexCorrupt):
        st.markdown("The index files are damaged. Rebuild them from the guideline files:")
        if st.button("Rebuild index", key="rebuild_main", icon=":material/build:") and rebuild_index(settings):
            st.rerun()
    else:
        st.markdown(
            f"Guideline folder: `{settings.corpus_dir}`  \nIndex folder: `{settings.index_dir}`  \n"
            "Fix the problem above, then reload this page."
        )


# --------------------------------------------------------------------------- page

# A local icon file: a Material-symbol page icon makes the browser fetch it from fonts.gstatic.com.
st.set_page_config(page_title="Guideline assistant", page_icon=str(Path(__file__).with_name("icon.png")))
st.html(render.PAGE_STYLE)
try:
    settings = Settings()
except SettingsError as exc:
    st.error(render.escape_markdown(str(exc)), icon=":material/error:")
    st.stop()
assistant: Assistant | None = None
problem: AssistantError | None = None
try:
    assistant = load_assistant(settings)
except AssistantError as exc:
    problem = exc

with st.sidebar:
    st.header("Guideline assistant")
    st.info(render.DISCLAIMER, icon=":material/info:")
    show_index_status(Assistant.index_status(settings))
    if st.button("Rebuild index", key="rebuild_sidebar", icon=":material/refresh:") and rebuild_index(settings):
        st.rerun()
    st.divider()
    k = st.slider("Passages to retrieve (k)", min_value=1, max_value=max(20, settings.k), value=settings.k, key="k")
    st.markdown("**Example questions**")
    clicked = [q for q in render.EXAMPLE_QUESTIONS if st.button(q, key=f"example:{q}", width="stretch")]
    example = clicked[0] if clicked else None
    st.divider()
    downloads = st.container()  # filled at the end, once this run's answer is in the conversation

if "turns" not in st.session_state:
    st.session_state.turns = []

st.title("Guideline assistant")
st.caption("Answers are verbatim quotes from the guideline, with their citation labels and a dose check.")
if problem is not None:
    show_problem(problem, settings)

for turn in st.session_state.turns:
    show_turn(turn, assistant)

prompt = st.chat_input(
    "Ask a question about the guideline", max_chars=settings.max_question_chars, disabled=assistant is None
)
if (question := prompt or example) and assistant is not None:
    turn = ask(assistant, question, k)
    st.session_state.turns.append(turn)
    show_turn(turn, assistant)

with downloads:
    answers = [turn.answer for turn in st.session_state.turns if turn.answer is not None]
    documents = sorted(assistant.manifest.corpus) if assistant else []
    st.download_button(
        "Download conversation (JSON)",
        render.conversation_json(answers),
        file_name="conversation.json",
        mime="application/json",
        on_click="ignore",
        disabled=not answers,
        icon=":material/data_object:",
    )
    st.download_button(
        "Download conversation (Markdown)",
        render.conversation_markdown(answers, documents),
        file_name="conversation.md",
        mime="text/markdown",
        on_click="ignore",
        disabled=not answers,
        icon=":material/description:",
    )
