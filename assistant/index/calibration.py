"""The abstention calibration stored with an index (``calibration.json``).

Written by ``guideline-assistant calibrate`` (see :mod:`assistant.evaluation.calibrate`),
read by ``Assistant.load``. It lives in the index folder because the right bars
depend on the library the index was built from; a rebuild carries it over.
Only the four similarity bars can be set this way, each a number in [0, 1]; a
damaged or foreign file is ignored with a note, never trusted.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

CALIBRATION_FILE = "calibration.json"
CALIBRATED_FIELDS = ("abstain_threshold", "general_threshold", "strict_threshold", "uncovered_threshold")
MAX_BYTES = 64_000


def read_calibration(index_dir: Path) -> tuple[dict[str, float], str | None]:
    """(the calibrated values, a note when a file exists but cannot be used)."""
    path = index_dir / CALIBRATION_FILE
    if not path.is_file():
        return {}, None
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError("too large")
        data = json.loads(path.read_text(encoding="utf-8"))
        values = _validated(data.get("settings") if isinstance(data, dict) else None)
    except (OSError, ValueError) as exc:
        return {}, f"{path}: ignored ({exc}); run `guideline-assistant calibrate` again."
    return values, None


def _validated(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict) or set(raw) - set(CALIBRATED_FIELDS):
        raise ValueError(f"expected only {', '.join(CALIBRATED_FIELDS)}")
    values: dict[str, float] = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} is not a number")
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1")
        values[name] = float(value)
    return values


def write_calibration(index_dir: Path, record: dict[str, Any]) -> Path:
    """Write atomically into an existing index folder (never creates or touches anything else)."""
    if not index_dir.is_dir():
        raise FileNotFoundError(f"{index_dir} is not an index folder; build the index first.")
    _validated(record.get("settings"))
    path = index_dir / CALIBRATION_FILE
    temporary = index_dir / f".{CALIBRATION_FILE}.tmp"
    temporary.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)
    return path
