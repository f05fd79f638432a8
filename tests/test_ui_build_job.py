"""The server's build job (ui/build_job.py): one job per library, its result or a one-line failure."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `ui` is a folder of the project

from assistant.errors import AssistantError, CorpusError  # noqa: E402
from ui import build_job  # noqa: E402


def _fails_with(exc: Exception):
    def work(progress):
        raise exc

    return work


@pytest.mark.parametrize(
    ("work", "result", "failure"),
    [
        (lambda progress: "assistant", "assistant", None),
        (_fails_with(CorpusError("No usable guideline in /x: empty.")), None, "No usable guideline in /x: empty."),
        (_fails_with(ValueError("bad")), None, "The index build stopped unexpectedly (ValueError: bad)."),
    ],
    ids=["built", "corpus-error", "unexpected"],
)
def test_a_job_ends_with_its_result_or_a_one_line_failure(work, result, failure) -> None:
    job = build_job.start(("job", failure), work)
    assert job.done.wait(10)
    assert job.result == result
    assert (str(job.failure) if job.failure else None) == failure
    assert isinstance(job.failure, AssistantError) or job.failure is None
    assert job.progress.snapshot().phase == ("failed" if failure else "done")
    assert build_job.latest(("job", failure)) is job


def test_a_second_visitor_joins_the_running_job_instead_of_starting_another() -> None:
    release = threading.Event()
    runs: list[int] = []

    def work(progress):
        runs.append(1)
        progress.on_statements(5, 10)
        release.wait(10)
        return "done"

    key = ("library", "joined")
    first = build_job.start(key, work)
    second = build_job.start(key, work)
    assert second is first and first.running
    release.set()
    assert first.done.wait(10) and runs == [1]
    third = build_job.start(key, lambda progress: "again")  # a finished job does not block the next build
    assert third is not first and third.done.wait(10) and third.result == "again"
