"""A build's progress line: what a person reads in the terminal and on the page."""

from __future__ import annotations

import pytest

from assistant.present.build_progress import BuildProgress, about_left


class Clock:
    """A clock the test moves by hand (the rate is statements per second of this clock)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (4, "about 10 s left"),
        (44, "about 40 s left"),
        (61, "about 1 min left"),
        (185, "about 3 min left"),
        (4800, "about 1 h 20 min left"),
    ],
)
def test_time_left_in_words(seconds: float, words: str) -> None:
    assert about_left(seconds) == words


def test_reading_then_embedding_with_rate_and_time_left() -> None:
    clock = Clock()
    progress = BuildProgress(clock)
    assert progress.snapshot().line() == "Starting the build"
    progress.on_file(37, 121, "nice/ng51.pdf")
    assert progress.snapshot().line() == "Reading files 37/121"
    progress.on_statements(0, 25_762)
    assert progress.snapshot().line() == "Embedding 0 / 25,762"
    clock.now += 20.0
    progress.on_statements(2_400, 25_762)
    state = progress.snapshot()
    assert state.line() == "Embedding 2,400 / 25,762 · 120 statements/s · about 3 min left"
    assert state.fraction == pytest.approx(2_400 / 25_762)
    clock.now += 200.0
    progress.on_statements(25_762, 25_762)
    assert progress.snapshot().line() == "Embedding 25,762 / 25,762 · 117 statements/s"
    progress.finished()
    assert progress.snapshot().line() == "The index is ready"


def test_nothing_to_embed_goes_straight_to_writing_and_a_failure_is_said() -> None:
    progress = BuildProgress(Clock())
    progress.on_statements(0, 0)
    assert progress.snapshot().line() == "Writing the index"
    progress.finished(error="the disk is full")
    assert progress.snapshot().line() == "The build stopped: the disk is full"
