"""The sidebar's library: which guidelines answer, adding a guideline, and where they live.

A clinician chooses guidelines by title (a search box narrows a long list), and
the choice is passed to ``Assistant.ask(documents=...)``; nothing here filters
answers itself. An uploaded file is written into the corpus folder under a safe
name, never over an existing file, then the index is updated incrementally.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from assistant import Assistant
from ui import render


class UploadRefused(ValueError):
    """An uploaded file cannot be added; the message says why in one line."""


def save_upload(corpus_dir: Path, name: str, data: bytes) -> Path:
    """Write an uploaded guideline into the corpus folder and return its path.

    The name is sanitised (no folders, letters/digits/``.-_`` only), the size is capped,
    and an existing file is never replaced: the clinician renames instead.
    """
    safe = render.safe_upload_name(name)
    if safe is None:
        raise UploadRefused(f"{name}: only {', '.join('.' + t for t in render.UPLOAD_TYPES)} files can be added.")
    limit = min(Assistant.size_limit(safe), render.MAX_UPLOAD_MB * 1_000_000)  # the index's limit, one for both
    if len(data) > limit:
        raise UploadRefused(
            f"{name}: {len(data) / 1e6:,.1f} MB is over the {limit / 1e6:,.0f} MB limit for "
            f".{safe.rsplit('.', 1)[-1]} guidelines; the index would not read it."
        )
    if not data.strip():
        raise UploadRefused(f"{name}: is empty.")
    if (existing := Assistant.duplicate_of(corpus_dir, data)) is not None:
        raise UploadRefused(f"{name}: is identical to {existing}, already in the library; it was not added.")
    root = corpus_dir.resolve()
    target = (root / safe).resolve()
    if target.parent != root:
        raise UploadRefused(f"{name}: would be written outside the guideline folder.")
    try:
        with target.open("xb") as sink:
            sink.write(data)
    except FileExistsError:
        raise UploadRefused(f"{safe}: a guideline with this name already exists; rename the file to add it.") from None
    except OSError as exc:
        raise UploadRefused(f"{safe}: could not be written ({exc.strerror}).") from None
    return target


def choose_guidelines(documents: Sequence[Any]) -> list[str]:
    """A search box and a multiselect of guideline titles; returns the chosen sources (empty: all)."""
    titles = {document.source: document.title or document.source for document in documents}
    chosen = [source for source in st.session_state.get("ga_guidelines", []) if source in titles]
    query = st.text_input("Search guidelines", key="ga_search", placeholder="Title or file name").strip().lower()
    options = [
        source for source in titles if not query or query in f"{titles[source]} {source}".lower() or source in chosen
    ]
    return st.multiselect(
        "Answer only from",
        options,
        format_func=lambda source: titles.get(source, source),
        key="ga_guidelines",
        placeholder="All guidelines",
        help="Leave empty to answer from every guideline in the library.",
    )


def add_guideline(
    corpus_dir: Path, update_index: Callable[[], bool], audit: Callable[[Path], str | None] = lambda saved: None
) -> None:
    """The "Add guideline" uploader: save the file once, record it in the audit log, then update the index.

    ``audit`` returns a problem when the change cannot be recorded; the file is then removed
    again (this run just created it), so the library never changes without a record.
    """
    uploaded = st.file_uploader(
        "Add guideline",
        type=list(render.UPLOAD_TYPES),
        key="ga_upload",
        max_upload_size=render.MAX_UPLOAD_MB,
        help=f"PDF or HTML up to {render.MAX_UPLOAD_MB} MB, Markdown or text up to {Assistant.size_limit('x.md') // 1_000_000} MB; "
        "added to the guideline folder.",
    )
    added = st.session_state.pop("ga_added", None)
    if added:
        st.success(f"Added {render.escape_markdown(added)} and updated the index.", icon=":material/check:")
    if uploaded is None or st.session_state.get("ga_uploaded") == uploaded.file_id:
        return
    st.session_state.ga_uploaded = uploaded.file_id  # a rerun must not add the same file twice
    try:
        saved = save_upload(corpus_dir, uploaded.name, uploaded.getvalue())
    except UploadRefused as exc:
        st.error(render.escape_markdown(str(exc)), icon=":material/error:")
        return
    problem = audit(saved)
    if problem is not None:
        saved.unlink(missing_ok=True)
        st.error(render.escape_markdown(f"{saved.name} was not added: {problem}"), icon=":material/error:")
        return
    if update_index():
        st.session_state.ga_added = saved.name
        st.rerun()  # redraw the library list and the filter with the new guideline


def show_documents(documents: Sequence[Any], problems: Sequence[str]) -> None:
    """The library as a list of titles with their files and sizes in statements (as text: titles are guideline text)."""
    lines = [f"• {d.title or d.source} ({d.source}, {d.statements} statements)" for d in documents]
    st.text("\n".join(lines) or "No guideline indexed yet.")
    for problem in problems:
        st.warning(f"Skipped: {render.escape_markdown(problem)}", icon=":material/warning:")
