"""The mark by which the project knows a folder as one it made (and may replace, write into or delete).

Ownership is decided by the marker file alone, never by the names of the other
files: a web app's ``manifest.json`` or someone's ``index.faiss`` + ``chunks.jsonl``
do not make a folder ours. The marker is the first file written into a folder the
project creates, and it holds a random id that the index manifest repeats, so a
marker copied into a foreign folder does not match its contents.

Indexes built before marker ids existed carry the one-line marker text
:data:`LEGACY_MARKER_TEXT`; they still load and are replaced by the next build,
which marks the new folder with an id (the upgrade path is simply a rebuild).
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

MARKER_FILE = ".guideline-assistant-index"
MADE_BY = "guideline-assistant"
LEGACY_MARKER_TEXT = "Made by guideline-assistant; the whole folder is rebuilt on demand."
_ID = re.compile(r"[0-9a-f]{32}")
_MAX_MARKER_BYTES = 4096


@dataclass(frozen=True)
class Marker:
    """What a folder's marker says: the id written with it (None for a marker from before ids)."""

    id: str | None
    role: str = "index"

    @property
    def legacy(self) -> bool:
        return self.id is None


def new_id() -> str:
    """A fresh random id (128 bits): what marks one folder, and only that one, as written by this project."""
    return secrets.token_hex(16)


def read_marker(folder: Path) -> Marker | None:
    """The folder's marker, or None when it has none we wrote (missing, a folder or link of that name, or foreign text)."""
    path = folder / MARKER_FILE
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > _MAX_MARKER_BYTES:
            return None
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if text.strip() == LEGACY_MARKER_TEXT:
        return Marker(id=None)
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("made_by") != MADE_BY:
        return None
    marker_id, role = data.get("id"), data.get("role", "index")
    if not isinstance(marker_id, str) or not _ID.fullmatch(marker_id) or role not in ("index", "staging"):
        return None
    return Marker(id=marker_id, role=role)


def is_owned(folder: Path) -> bool:
    """Whether ``folder`` carries this project's marker (a regular file with our content, not a folder of that name)."""
    return read_marker(folder) is not None


def write_marker(folder: Path, marker_id: str, role: str = "index") -> None:
    """Mark ``folder`` (called first, before anything else is written into it)."""
    content = {
        "made_by": MADE_BY,
        "id": marker_id,
        "role": role,
        "note": "Made by guideline-assistant; the whole folder is rebuilt on demand.",
    }
    (folder / MARKER_FILE).write_text(json.dumps(content) + "\n", encoding="utf-8")


def create_marked(folder: Path, role: str = "index") -> str:
    """Create ``folder`` (it must not exist yet) and mark it; returns the id written."""
    folder.mkdir(parents=False, exist_ok=False)
    marker_id = new_id()
    write_marker(folder, marker_id, role)
    return marker_id


def remove_marked(folder: Path, expected_id: str | None = None) -> bool:
    """Delete ``folder`` only when it carries a marker with an id (the id given, when one is given).

    A folder without a marker, with a foreign marker or with a marker from before
    ids is left as it is; the return value says whether it was removed.
    """
    if folder.is_symlink() or not folder.is_dir():
        return False
    marker = read_marker(folder)
    if marker is None or marker.id is None or (expected_id is not None and marker.id != expected_id):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True
