"""The folder an evaluation writes into: one it created (and marked), or one the user gave up with --force.

``eval --out DIR`` used to write ``report.md`` and ``metrics.json`` over whatever
was there. Now a folder that exists, holds anything, and does not carry the
evaluation marker is refused in one line; ``--force`` is the explicit "yes, overwrite".
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.index.owned import new_id

EVAL_MARKER_FILE = ".guideline-assistant-eval"


def _marked(folder: Path) -> bool:
    path = folder / EVAL_MARKER_FILE
    if path.is_symlink() or not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("made_by") == "guideline-assistant"


def claim_out_folder(folder: Path, force: bool = False) -> None:
    """Create and mark ``folder``, or accept it when it is empty, ours, or ``force`` says so; else ValueError."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise ValueError(f"--out {folder} is not a folder; choose a new folder for the evaluation")
    if folder.is_dir() and not _marked(folder) and any(folder.iterdir()) and not force:
        raise ValueError(
            f"--out {folder} already holds files that an evaluation did not write; nothing was changed. "
            "Choose a new or empty folder, or add --force to overwrite report.md, metrics.json and answers.jsonl there"
        )
    folder.mkdir(parents=True, exist_ok=True)
    if not _marked(folder):
        content = {"made_by": "guideline-assistant", "id": new_id(), "what": "evaluation output"}
        (folder / EVAL_MARKER_FILE).write_text(json.dumps(content) + "\n", encoding="utf-8")
