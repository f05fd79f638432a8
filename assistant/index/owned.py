"""The mark by which the project knows a folder as an index it made (and may replace or write into)."""

from __future__ import annotations

from pathlib import Path

MARKER_FILE = ".guideline-assistant-index"


def is_owned(folder: Path) -> bool:
    """Whether ``folder`` carries this project's index marker (a file, not a folder of that name)."""
    return (folder / MARKER_FILE).is_file()
