"""The append-only audit log: who changed the library, and (when enabled) what was answered from which build.

One JSON object per line (JSON Lines), for clinical governance:

- a library change: ``action`` (``upload``, ``rebuild``), ``file``, ``sha256``, ``size``,
  ``time``, ``client`` (the address it came from) and ``outcome`` (``ok`` or the one-line refusal);
- an answer (``Settings.audit_answers``): ``time``, ``question_sha256`` (the question itself is
  not kept: it may name a patient), ``build_id``, the quoted ``statements`` (chunk ids),
  the guardrail's ``flags`` (codes), ``abstained`` and ``client``.

The log lives in the index folder (``audit.jsonl``; a rebuild hard-links it into the new
folder, so no line is lost) or at ``Settings.audit_log``. It is only ever appended to:
opened with ``O_APPEND`` under an exclusive lock, never truncated, never rewritten, never
followed through a symbolic link. A damaged line is reported by :func:`read_log`, not fatal.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from assistant.errors import AuditLogError
from assistant.index.owned import is_owned
from assistant.settings import Settings

AUDIT_FILE = "audit.jsonl"
MAX_LINE_CHARS = 100_000  # a longer line is not one of ours: reported as damaged, not parsed
FIELDS = ("time", "action", "outcome", "file", "sha256", "size", "client", "build_id", "question_sha256")


def log_path(settings: Settings) -> Path:
    """Where the audit log is: the chosen path, else ``audit.jsonl`` in the index folder."""
    return settings.audit_log if settings.audit_log is not None else settings.index_dir / AUDIT_FILE


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def append(settings: Settings, record: dict[str, Any]) -> Path:
    """Append one record (``time`` added) as one line; raises :class:`AuditLogError` when it cannot.

    The index folder is written only when it is this project's (its marker is there), so the
    log never creates or claims a folder; a chosen ``audit_log`` path is created if missing.
    """
    path = log_path(settings)
    if settings.audit_log is None and not is_owned(settings.index_dir):
        raise AuditLogError(
            f"No audit log can be kept in {settings.index_dir}: it is not an index folder this project made yet. "
            "Build the index first, or choose a file with GUIDELINE_ASSISTANT_AUDIT_LOG."
        )
    line = json.dumps({"time": now(), **record}, ensure_ascii=False, sort_keys=False) + "\n"
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o640)
    except OSError as exc:
        raise AuditLogError(f"Cannot write the audit log {path} ({exc.strerror or type(exc).__name__}).") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"  # a line cut short by a crash stays its own line
        os.write(fd, (b"\n" if torn else b"") + line.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    return path


def library_change(
    settings: Settings,
    action: str,
    *,
    file: Path | None = None,
    client: str | None = None,
    outcome: str = "ok",
    **extra: Any,
) -> Path:
    """Record one change of the library: the file's name, sha256 and size when there is a file."""
    record: dict[str, Any] = {"action": action, "outcome": outcome}
    if file is not None:
        record["file"] = file.name
        with contextlib.suppress(OSError):
            data = file.read_bytes()
            record |= {"sha256": sha256_hex(data), "size": len(data)}
    return append(settings, {**record, "client": client, **extra})


@dataclass(frozen=True)
class AuditLog:
    """What :func:`read_log` found: the records in order, and one line per damaged line."""

    records: list[dict[str, Any]]
    problems: list[str]


def read_log(path: Path) -> AuditLog:
    """Every record of the log; a line that is not a JSON object is reported with its number and skipped."""
    records: list[dict[str, Any]] = []
    problems: list[str] = []
    for number, line in _lines(path):
        if not line.strip():
            continue
        record = _parse(line)
        if record is None:
            problems.append(f"{path.name} line {number}: damaged (not one JSON record); skipped.")
        else:
            records.append(record)
    return AuditLog(records, problems)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8", errors="replace", newline="\n") as handle:
            yield from enumerate(handle, start=1)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise AuditLogError(f"Cannot read the audit log {path} ({exc.strerror or type(exc).__name__}).") from None


def _parse(line: str) -> dict[str, Any] | None:
    if len(line) > MAX_LINE_CHARS:
        return None
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) and isinstance(record.get("action"), str) else None


def build_id(manifest: Any) -> str:
    """The build an answer came from: the manifest's own id where it has one, else a hash of the manifest."""
    own = getattr(manifest, "build_id", None)
    return str(own) if own else sha256_hex(manifest.model_dump_json())[:16]


def answer_record(
    question: str, build: str, statements: Iterable[str], flags: Iterable[str], abstained: bool
) -> dict[str, Any]:
    """The audit record of one answer (the question only as its sha256)."""
    return {
        "action": "answer",
        "outcome": "abstained" if abstained else "answered",
        "question_sha256": sha256_hex(question),
        "build_id": build,
        "statements": list(statements),
        "flags": list(flags),
    }
