"""A check of the corpus folder that takes milliseconds, made before the model is loaded.

Loading the embedding model takes seconds (tens under load), and a missing or empty
corpus folder used to be reported only after it, when the build found nothing to
parse. This check looks only at names, sizes and permissions; whether a file really
holds guideline statements is still decided by the parser during the build.
"""

from __future__ import annotations

import os
from pathlib import Path

from assistant.errors import CorpusError
from assistant.ingest.files import SUPPORTED_SUFFIXES, corpus_files


def check_corpus(corpus_dir: Path) -> None:
    """Raise :class:`CorpusError` (one line) unless the folder holds a readable, non-empty guideline file."""
    files = corpus_files(corpus_dir)  # raises when the folder does not exist
    guidelines = [path for path in files if path.suffix.lower() in SUPPORTED_SUFFIXES]
    if any(_readable(path) for path in guidelines):
        return
    if not guidelines:
        raise CorpusError(
            f"No usable guideline in {corpus_dir}: it holds no guideline files ({', '.join(SUPPORTED_SUFFIXES)})."
        )
    names = ", ".join(path.relative_to(corpus_dir).as_posix() for path in guidelines[:5])
    raise CorpusError(f"No usable guideline in {corpus_dir}: every guideline file is empty or unreadable ({names}).")


def _readable(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0 and os.access(path, os.R_OK)
    except OSError:
        return False
