"""The index build as one background job of the Streamlit server, watched by every visitor.

A build used to run inside the browser session that started it: closing that tab
stopped the session and lost the work (at 85 % after 40 minutes, once), and a
second visitor saw a blank page while waiting for a lock. Here the build runs in
a thread of the server process, one per (corpus, index, model), registered in
this module (imported once per process, so every session finds the same job).
A session only *watches* it: it draws the job's progress until the job ends.
When a tab is closed, Streamlit stops that session's script; the build thread is
not the script's, so it carries on, and whoever opens the page next watches the
same job instead of starting another.

The job thread never touches Streamlit (it has no session); it only updates a
:class:`~assistant.present.build_progress.BuildProgress` that sessions read.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from assistant.errors import AssistantError
from assistant.present import BuildProgress
from ui import render

SAFE_TO_CLOSE = (
    "The library is being indexed on this computer. It is safe to close this tab: the build carries on, "
    "and this page shows its progress to anyone who opens it."
)
POLL_SECONDS = 0.5

Work = Callable[[BuildProgress], Any]


@dataclass
class BuildJob:
    """One build running (or run) in a server thread: its progress, and its result or failure."""

    key: Hashable
    progress: BuildProgress = field(default_factory=BuildProgress)
    result: Any = None
    failure: AssistantError | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    @property
    def succeeded(self) -> bool:
        return self.done.is_set() and self.failure is None


_JOBS: dict[Hashable, BuildJob] = {}
_LOCK = threading.Lock()


def latest(key: Hashable) -> BuildJob | None:
    """The running job for ``key``, or the last one that ran in this process."""
    with _LOCK:
        return _JOBS.get(key)


def start(key: Hashable, work: Work) -> BuildJob:
    """Start ``work`` in a server thread, unless a job for ``key`` is already running (then that one)."""
    with _LOCK:
        job = _JOBS.get(key)
        if job is not None and job.running:
            return job
        job = BuildJob(key)
        _JOBS[key] = job
    # A daemon thread: stopping the server stops the build too (the index is swapped in atomically,
    # so nothing half-written is left), but closing any tab never does.
    threading.Thread(target=_run, args=(job, work), name="guideline-index-build", daemon=True).start()
    return job


def _run(job: BuildJob, work: Work) -> None:
    try:
        job.result = work(job.progress)
        job.progress.finished()
    except AssistantError as exc:
        job.failure = exc
        job.progress.finished(error=str(exc))
    except Exception as exc:  # noqa: BLE001 - the page must say it in one line, never show a traceback
        job.failure = AssistantError(f"The index build stopped unexpectedly ({type(exc).__name__}: {exc}).")
        job.progress.finished(error=str(job.failure))
    finally:
        job.done.set()


def watch(job: BuildJob) -> None:
    """Draw the job's progress in this session until it ends (a closed tab stops only the drawing)."""
    st.info(SAFE_TO_CLOSE, icon=":material/hourglass_top:")
    bar = st.empty()
    while True:
        state = job.progress.snapshot()
        bar.progress(state.fraction, text=render.escape_markdown(state.line()))
        if job.done.wait(POLL_SECONDS):
            break
    state = job.progress.snapshot()
    bar.progress(state.fraction, text=render.escape_markdown(state.line()))
