"""One build per index folder at a time, and recovery from a build killed between its two renames."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from assistant.errors import IndexBusy, IndexFolderError
from assistant.index.owned import is_owned


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_seconds: float = 600.0) -> Iterator[None]:
    """Only one build per index folder at a time; a second one waits, then gives up clearly."""
    lock_path = index_dir.parent / f".{index_dir.name}.lock"
    with _open_lock(index_dir, lock_path) as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusy(
                        f"Another build of {index_dir} has held its lock for {wait_seconds:.0f} s; "
                        "wait for it to finish, then try again."
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _open_lock(index_dir: Path, lock_path: Path) -> IO[str]:
    """The lock file beside the index; a parent that cannot be written is one message, not a traceback."""
    try:
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        return lock_path.open("a")
    except OSError as exc:
        raise IndexFolderError(
            f"Cannot write beside the index folder {index_dir} ({exc.strerror or type(exc).__name__}); "
            "choose an index folder you can write to (--index or GUIDELINE_ASSISTANT_INDEX_DIR)."
        ) from None


def backup_dir(index_dir: Path) -> Path:
    return index_dir.parent / f".{index_dir.name}.old"


def recover_interrupted_swap(index_dir: Path) -> None:
    """A crash between the two renames leaves only the backup: put it back (only a backup we marked)."""
    backup = backup_dir(index_dir)
    if not index_dir.exists() and backup.is_dir() and not backup.is_symlink() and is_owned(backup):
        os.rename(backup, index_dir)


def recover_before_load(index_dir: Path) -> None:
    """Recover a crashed swap, but only under the build lock.

    Between a live build's two renames the folder is briefly missing too; taking
    the lock waits for that build instead of renaming its backup back mid-swap.
    """
    if not index_dir.exists() and backup_dir(index_dir).is_dir() and is_owned(backup_dir(index_dir)):
        with build_lock(index_dir):
            recover_interrupted_swap(index_dir)
