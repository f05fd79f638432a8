"""Clinicians' feedback on answers, kept beside the index it was given about.

Under each answer the chat asks "Answered my question?". A "no" names the statement
that does answer it (or "not in these guidelines"); each verdict is one line of
``feedback.jsonl`` in the index folder, with the build it was given about. The
folder must carry this project's marker (:mod:`assistant.index.owned`): nothing is
written anywhere else. The file survives rebuilds (``build.CARRIED_OVER``), and
``guideline-assistant feedback export`` turns it into a gold file that ``eval``,
``calibrate`` and ``train-ranker`` read. Nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assistant.errors import IndexFolderError
from assistant.index.owned import is_owned

FEEDBACK_FILE = "feedback.jsonl"
MAX_TEXT = 4000  # a question or statement longer than this is not a real one


class FeedbackRecord(BaseModel):
    """One clinician's verdict on one answer."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=MAX_TEXT)
    answered: bool = Field(description="True: the answer answered the question.")
    evidence: str | None = Field(
        default=None, max_length=MAX_TEXT, description="The statement that does answer it, verbatim (on 'no')."
    )
    source: str | None = Field(default=None, description="The guideline that statement is in.")
    chunk_id: str | None = None
    abstain: bool = Field(default=False, description="'Not in these guidelines': the right answer is to abstain.")
    build: str = Field(description="The index build the answer came from (its manifest's created_at).")
    recorded_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackRecord:
        if self.abstain and self.evidence:
            raise ValueError("a 'not in these guidelines' verdict names no statement")
        return self


def feedback_path(index_dir: Path) -> Path:
    return index_dir / FEEDBACK_FILE


def append_feedback(index_dir: Path, record: FeedbackRecord) -> Path:
    """Append one verdict as one line (a single ``O_APPEND`` write, so concurrent sessions do not interleave)."""
    if not is_owned(index_dir):
        raise IndexFolderError(f"{index_dir} is not an index folder this project made; feedback is not recorded there.")
    path = feedback_path(index_dir)
    line = (record.model_dump_json() + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
    finally:
        os.close(descriptor)
    return path


def read_feedback(path: Path) -> tuple[list[FeedbackRecord], list[str]]:
    """Every well-formed verdict in a feedback file, and one line per line that is not one."""
    records: list[FeedbackRecord] = []
    problems: list[str] = []
    if not path.is_file():
        return records, problems
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(FeedbackRecord.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            problems.append(f"{path.name} line {number}: not a feedback record ({str(exc).splitlines()[0]})")
    return records, problems
