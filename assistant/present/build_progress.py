"""A build's progress in words a person can read, the same in the terminal and on the page.

The build reports two kinds of event: files read (``done, total, source``) and
statements embedded (``done, total``). :class:`BuildProgress` turns them into one
line -- "Reading files 37/121", then "Embedding 2,400 / 25,762 · 118 statements/s ·
about 3 min left" -- with the rate measured over the embedding so far (not a guess
made before the first batch). It is updated by the building thread and read by any
number of others (the chat page's visitors), so every read takes a consistent snapshot.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

STARTING, READING, EMBEDDING, WRITING, DONE, FAILED = "starting", "reading", "embedding", "writing", "done", "failed"


@dataclass(frozen=True)
class BuildSnapshot:
    """Where a build is: phase, count, total, the current file, and the rate so far."""

    phase: str = STARTING
    done: int = 0
    total: int = 0
    current: str = ""
    rate: float | None = None  # statements per second while embedding
    started: float = 0.0
    error: str = ""

    @property
    def fraction(self) -> float:
        """How far the current phase is (0..1), for a bar."""
        if self.phase in (WRITING, DONE):
            return 1.0
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def seconds_left(self) -> float | None:
        if self.phase != EMBEDDING or not self.rate:
            return None
        return max(0.0, (self.total - self.done) / self.rate)

    def line(self) -> str:
        """The one line shown to a person (terminal and page alike)."""
        if self.phase == READING:
            return f"Reading files {self.done:,}/{self.total:,}"
        if self.phase == EMBEDDING:
            parts = [f"Embedding {self.done:,} / {self.total:,}"]
            if self.rate:
                parts.append(f"{self.rate:,.0f} statements/s")
            left = self.seconds_left
            if left is not None and self.done < self.total:
                parts.append(about_left(left))
            return " · ".join(parts)
        if self.phase == WRITING:
            return "Writing the index"
        if self.phase == DONE:
            return "The index is ready"
        if self.phase == FAILED:
            return f"The build stopped: {self.error}"
        return "Starting the build"


def about_left(seconds: float) -> str:
    """'about 40 s left', 'about 3 min left', 'about 1 h 20 min left' (rounded: it is an estimate)."""
    if seconds < 60:
        return f"about {max(10, int(round(seconds / 10.0)) * 10)} s left"
    minutes = int(round(seconds / 60.0))
    if minutes < 60:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60} min left"


class BuildProgress:
    """The callbacks a build takes (``on_file``, ``on_statements``) and the snapshot they keep."""

    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self._clock = clock or time.perf_counter
        self._lock = threading.Lock()
        self._state = BuildSnapshot(started=self._clock())
        self._embedding_since: tuple[float, int] | None = None

    def snapshot(self) -> BuildSnapshot:
        with self._lock:
            return self._state

    def on_file(self, done: int, total: int, source: str) -> None:
        with self._lock:
            self._state = replace(self._state, phase=READING, done=done, total=total, current=source)

    def on_statements(self, done: int, total: int) -> None:
        """Embedding progress; the rate is counted from the first event (so model warm-up is not in it)."""
        now = self._clock()
        with self._lock:
            if self._state.phase != EMBEDDING or self._embedding_since is None:
                self._embedding_since = (now, done)
            since, first = self._embedding_since
            elapsed = now - since
            rate = (done - first) / elapsed if elapsed > 0 and done > first else self._state.rate
            phase = WRITING if total == 0 else EMBEDDING
            self._state = replace(self._state, phase=phase, done=done, total=total, current="", rate=rate)

    def writing(self) -> None:
        with self._lock:
            self._state = replace(self._state, phase=WRITING)

    def finished(self, error: str = "") -> None:
        with self._lock:
            self._state = replace(self._state, phase=FAILED if error else DONE, error=error)
