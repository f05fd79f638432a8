"""The chat page: ``streamlit run ui/app.py`` (the README's ``make run``).

It answers through the same :class:`~assistant.Assistant` as the CLI and holds
no retrieval or dose logic of its own: ``ui.answer_view`` renders the structured
answer, ``ui.library`` chooses and adds guidelines. Guideline text is shown with
``st.text``; nothing is rendered as HTML but the page's constant style sheet.
The corpus and index folders come from ``Settings()``, so the environment
variables GUIDELINE_ASSISTANT_CORPUS_DIR / GUIDELINE_ASSISTANT_INDEX_DIR apply
(``make run CORPUS=...`` sets the first).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from assistant.index.store import IndexStatus

# `streamlit run ui/app.py` puts ui/ on sys.path, not the project root that holds `ui`.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from assistant import Assistant  # noqa: E402
from assistant.answer import Answer  # noqa: E402
from assistant.errors import AssistantError, AuditLogError, IndexCorrupt, InputError, SettingsError  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from ui import access, build_job, export, feedback, grades, library, render, scroll  # noqa: E402
from ui.answer_view import show_answer  # noqa: E402


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
    """The server's assistant for these settings: loaded once, and built first in a server job when needed."""
    pool, lock = _assistants()
    key = _key(settings)
    job = build_job.latest(key)
    if key not in pool and (job is None or not job.running) and not Assistant.index_status(settings).up_to_date:
        job = build_job.start(key, lambda progress: _build_then_load(settings, progress))
    if key not in pool and job is not None and (job.running or job.succeeded):
        with st.status("Building the search index…", expanded=True) as box:
            build_job.watch(job)
            if job.failure is not None:
                box.update(label="The index could not be loaded", state="error", expanded=True)
                raise job.failure
            with lock:
                if job.result is not None:  # a rebuild started before any assistant was loaded returns none
                    pool.setdefault(key, job.result)
            if key in pool:
                box.update(label=f"Index ready: {pool[key].manifest.n_chunks} statements", state="complete", expanded=False)
            else:
                box.update(label="Index built", state="complete", expanded=False)
    with lock:
        if key not in pool:
            with st.status("Loading the model and index…") as box:
                pool[key] = Assistant.load(
                    settings=settings,
                    progress=_progress_bar(),
                    notify=lambda message: box.write(render.escape_markdown(message)),
                )
                box.update(label=f"Index ready: {pool[key].manifest.n_chunks} statements", state="complete")
        return pool[key]


def _build_then_load(settings: Settings, progress: Any) -> Assistant:
    """The background job's work: load, building first (files, then statements) when missing or stale.

    A damaged index is not rebuilt here: :class:`IndexCorrupt` reaches the page, which offers the rebuild.
    """
    return Assistant.load(settings=settings, progress=progress.on_statements, file_progress=progress.on_file)


def rebuild_index(settings: Settings, label: str = "Updating the search index…") -> bool:
    """Update the index from the corpus in a server job (changed files only; also the way out of a corrupt index)."""
    pool, lock = _assistants()
    key = _key(settings)

    def work(progress: Any) -> Assistant | None:
        with lock:
            current = pool.get(key)
        if current is None:
            Assistant.build(settings, progress.on_statements, file_progress=progress.on_file)
        else:
            current.rebuild(progress.on_statements, file_progress=progress.on_file)
        return current

    with st.status(label, expanded=True) as box:
        job = build_job.start(key, work)
        build_job.watch(job)
        if job.failure is not None:
            box.update(label="The index could not be updated", state="error", expanded=True)
            st.error(render.escape_markdown(str(job.failure)))
            access.record(settings, "rebuild", outcome=f"failed: {job.failure}")
            return False
        box.update(label="Index updated", state="complete", expanded=False)
    problem = access.record(settings, "rebuild")
    if problem is not None:
        st.error(render.escape_markdown(problem), icon=":material/error:")
    return True


def ask(assistant: Assistant, question: str, k: int, documents: list[str], min_strength: str | None = None) -> Turn:
    """One question through the Assistant, in this session's conversation, guideline choice and grade filter."""
    try:
        answer = assistant.ask(
            question,
            k=k,
            documents=documents or None,
            conversation=st.session_state.conversation,
            client=access.client_address(),
            min_strength=min_strength,
        )
    except InputError as exc:
        return Turn(question, error=str(exc))
    except AuditLogError as exc:  # answers are audited and the log cannot be written
        return Turn(question, error=str(exc))
    return Turn(question, answer=answer)


# --------------------------------------------------------------------------- views


def show_index_status(status: IndexStatus) -> None:
    manifest = status.manifest
    if manifest is not None:
        built = manifest.created_at.replace("T", " ").replace("+00:00", " UTC")
        st.caption(
            f"{manifest.n_chunks} statements · {manifest.n_documents} guideline(s)  \n"
            f"Model: {render.escape_markdown(manifest.model)}  \nBuilt: {render.escape_markdown(built)}"
        )
    if status.up_to_date:
        st.markdown(":green-badge[:material/check: Index up to date]")
    elif status.manifest is not None and status.exists:
        st.markdown(":orange-badge[:material/update: Index stale]")
        st.caption(render.escape_markdown(status.reason))
    else:
        st.error(render.escape_markdown(status.reason), icon=":material/error:")


def show_turn(turn: Turn, assistant: Assistant | None, number: int) -> None:
    with st.chat_message("user"):
        st.markdown(render.escape_markdown(turn.question))
    with st.chat_message("assistant"):
        if turn.error is not None:
            st.warning(render.escape_markdown(turn.error), icon=":material/edit_note:")
        elif turn.answer is not None:
            show_answer(turn.answer, assistant.document if assistant else None, str(number))
            feedback.ask_feedback(turn.answer, assistant, str(number))


def show_problem(problem: AssistantError, settings: Settings, may_rebuild: bool = True) -> None:
    """A corpus, index or model problem: say what is wrong and offer the way out (a rebuild, if this visitor may)."""
    st.error(render.escape_markdown(str(problem)), icon=":material/error:")
    if isinstance(problem, IndexCorrupt) and may_rebuild:
        st.markdown("The index files are damaged. Rebuild them from the guideline files:")
        if st.button("Rebuild index", key="rebuild_main", icon=":material/build:") and rebuild_index(settings):
            st.rerun()
    else:
        st.markdown(
            f"Guideline folder: `{settings.corpus_dir}`  \nIndex folder: `{settings.index_dir}`  \n"
            "Fix the problem above, then reload this page."
        )


def outlines(assistant: Assistant) -> list[render.GuidelineOutline]:
    """Titles, section titles and statements of the first guidelines, for the example questions."""
    found: list[render.GuidelineOutline] = []
    for source in assistant.sources[:6]:
        try:
            document: Any = assistant.document(source)
        except AssistantError:
            continue
        found.append(
            render.GuidelineOutline(
                title=document.title or source,
                sections=tuple(s.title for s in document.sections if s.title),
                statements=tuple(statement.text for statement in document.statements),
            )
        )
    return found


def _pick(question: str) -> None:
    st.session_state.pending = question


def show_welcome(assistant: Assistant) -> None:
    """The empty page: what this is, and example questions taken from the indexed guidelines."""
    st.markdown(render.EXPLANATION)
    st.caption(render.DISCLAIMER)
    st.markdown("**Try one of these**")
    for number, question in enumerate(render.example_questions(outlines(assistant))):
        label = render.escape_markdown(question)  # made of guideline titles and sections: never markup
        st.button(label, key=f"example-{number}", on_click=_pick, args=(question,), width="stretch")


def new_conversation() -> None:
    """Forget this session's questions and answers, and the subject follow-ups refer back to."""
    st.session_state.turns = []
    st.session_state.conversation = Assistant.new_conversation()


# --------------------------------------------------------------------------- page

# A local icon file: a Material-symbol page icon makes the browser fetch it from fonts.gstatic.com.
st.set_page_config(page_title="Guideline assistant", page_icon=str(Path(__file__).with_name("icon.png")))
st.html(render.PAGE_STYLE)
try:
    settings = Settings()
except SettingsError as exc:
    st.error(render.escape_markdown(str(exc)), icon=":material/error:")
    st.stop()
if "turns" not in st.session_state:
    new_conversation()

st.title("Guideline assistant")
assistant: Assistant | None = None
problem: AssistantError | None = None
try:
    assistant = load_assistant(settings)
except AssistantError as exc:
    problem = exc
status = Assistant.index_status(settings)
st.caption(
    render.status_line(
        status.manifest.n_chunks if status.manifest else 0,
        status.manifest.n_documents if status.manifest else 0,
        status.up_to_date,
    )
)

with st.sidebar:
    st.header("Library")
    st.caption(f"Guideline folder: {render.escape_markdown(str(settings.corpus_dir))}")
    documents = Assistant.documents(settings) if status.manifest is not None else []
    chosen = library.choose_guidelines(documents)
    min_strength = grades.strong_only_filter()
    with st.expander(f"{len(documents)} guideline(s) in the library", icon=":material/library_books:"):
        library.show_documents(documents, status.manifest.problems if status.manifest else [])
    unlocked = access.library_unlocked(settings)  # on a shared page: only with the admin secret
    if unlocked:
        library.add_guideline(
            settings.corpus_dir,
            lambda: rebuild_index(settings, "Adding the guideline to the index…"),
            lambda saved: access.record(settings, "upload", saved),
        )
    st.divider()
    st.button("New conversation", key="new_conversation", icon=":material/add_comment:", on_click=new_conversation)
    downloads = st.container()  # filled at the end, once this run's answer is in the conversation
    st.divider()
    with st.expander("Advanced", icon=":material/tune:"):
        k = st.slider(
            "Statements retrieved per question (k)",
            min_value=1,
            max_value=max(20, settings.k),
            value=settings.k,
            key="k",
            help="How many statements are looked up before the best are chosen and quoted.",
        )
        show_index_status(status)
        rebuild = unlocked and st.button("Rebuild index", key="rebuild_sidebar", icon=":material/refresh:")
        if rebuild and rebuild_index(settings):
            st.rerun()

if problem is not None:
    show_problem(problem, settings, may_rebuild=unlocked)

# The chat input is pinned to the bottom wherever it is called; reading it first lets the
# welcome make way in the very run that asks the first question.
prompt = st.chat_input(
    "Ask a question about the guidelines", max_chars=settings.max_question_chars, disabled=assistant is None
)
pending = st.session_state.pop("pending", None)
if assistant is not None and not st.session_state.turns and pending is None and not prompt:
    show_welcome(assistant)

for number, turn in enumerate(st.session_state.turns):
    show_turn(turn, assistant, number)

if (question := prompt or pending) and assistant is not None:
    turn = ask(assistant, question, k, chosen, min_strength)
    st.session_state.turns.append(turn)
    show_turn(turn, assistant, len(st.session_state.turns) - 1)
scroll.follow_newest(len(st.session_state.turns))  # the newest question and its answer's top in view

with downloads:
    answers = [turn.answer for turn in st.session_state.turns if turn.answer is not None]
    head = export.header(str(settings.corpus_dir), status.manifest, documents)
    st.download_button(
        "Download conversation (JSON)",
        export.conversation_json(answers, head),
        file_name="conversation.json",
        mime="application/json",
        on_click="ignore",
        disabled=not answers,
        icon=":material/data_object:",
    )
    st.download_button(
        "Download conversation (Markdown)",
        export.conversation_markdown(answers, head),
        file_name="conversation.md",
        mime="text/markdown",
        on_click="ignore",
        disabled=not answers,
        icon=":material/description:",
    )
