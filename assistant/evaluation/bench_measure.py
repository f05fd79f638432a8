"""How the benchmark takes a figure: rounded percentiles, resident memory, system load.

Shared by every part of :func:`assistant.evaluation.bench.run_bench` so that all of its
figures are taken, rounded and labelled the same way.
"""

from __future__ import annotations

import os
import resource
import sys
from collections.abc import Sequence

import numpy as np


def pct(values: Sequence[float], q: float, digits: int = 2) -> float:
    """The ``q``-th percentile rounded for the report; 0.0 when nothing was measured."""
    return round(float(np.percentile(values, q)), digits) if values else 0.0


def rss_mib() -> float:
    """Resident memory now, in MiB (the scale test reports deltas of it around each index)."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mib() -> float:
    """The process's peak resident memory in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


def load_average() -> list[float] | None:
    """1/5/15-minute load, recorded because a busy machine explains slow figures; None where unsupported."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:  # pragma: no cover
        return None
