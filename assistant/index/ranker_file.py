"""The learned ranker stored with an index (``ranker.txt``), written by ``guideline-assistant train-ranker``.

It lives in the index folder because a ranker trained on one library's gold questions
belongs to that library; a rebuild carries it over. The file is LightGBM's own text
format, read as text and parsed by LightGBM (never unpickled); whether it is usable
is decided by :mod:`assistant.retrieval.ranker`, which falls back to the shipped model.
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant.index.owned import is_owned

RANKER_FILE = "ranker.txt"
MAX_BYTES = 5_000_000  # a few hundred small trees are ~0.5 MB; anything far larger is not ours


def read_ranker_text(index_dir: Path) -> str | None:
    """The stored model's text, or None when the index has none; ``ValueError`` when it cannot be read."""
    path = index_dir / RANKER_FILE
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path} is larger than {MAX_BYTES // 1_000_000} MB")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read ({exc.__class__.__name__})") from exc


def write_ranker_text(index_dir: Path, text: str) -> Path:
    """Write atomically into an existing index folder (never creates or touches anything else)."""
    if not is_owned(index_dir):
        raise FileNotFoundError(f"{index_dir} is not an index folder of this project; build the index first.")
    path = index_dir / RANKER_FILE
    temporary = index_dir / f".{RANKER_FILE}.tmp"
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path
