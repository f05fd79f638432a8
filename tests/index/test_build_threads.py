"""A build's encoder threads: the setting when given, otherwise one per idle core, measured (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from assistant.index import embeddings


@pytest.fixture
def burners():
    """A CPU-spinning process on every core (each stopped by its own id)."""
    processes = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 1)]
    time.sleep(1.0)
    yield
    for process in processes:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize(("build", "expected"), [(3, 3), (1, 1)])
def test_a_set_thread_count_is_used_as_given(build: int, expected: int) -> None:
    before = embeddings.thread_policy()
    embeddings.set_thread_policy(before.query, build)
    try:
        assert embeddings.build_threads_now() == expected
    finally:
        embeddings.set_thread_policy(before.query, before.build)


def test_every_core_busy_means_one_thread(burners) -> None:
    before = embeddings.thread_policy()
    embeddings.set_thread_policy(before.query, None)
    try:
        assert embeddings.build_threads_now(sample_seconds=0.5) == 1
    finally:
        embeddings.set_thread_policy(before.query, before.build)
