"""The gates: ``evals/thresholds.toml`` read, validated and checked against a run's metrics.

Kept apart from the metrics so that CI's pass/fail rule is one small file to read, and
so the CLI can reject a bad thresholds file before it spends minutes on a run.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from assistant.evaluation.metrics import METRIC_NAMES
from assistant.settings import PROJECT_ROOT

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

DEFAULT_THRESHOLDS = PROJECT_ROOT / "evals" / "thresholds.toml"


class Thresholds(BaseModel):
    """``evals/thresholds.toml``: a metric must be >= its ``minimum`` and <= its ``maximum``."""

    model_config = ConfigDict(extra="forbid")

    minimum: dict[str, float] = {}
    maximum: dict[str, float] = {}

    @field_validator("minimum", "maximum")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - METRIC_NAMES)
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; known metrics are {sorted(METRIC_NAMES)}")
        return value


def load_thresholds(path: str | Path = DEFAULT_THRESHOLDS) -> Thresholds:
    """Read and validate a thresholds file; a bad key or value raises ``ValueError`` naming the file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read thresholds file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return Thresholds.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"{path}: invalid thresholds ({problems})") from exc


def check_thresholds(metrics: dict[str, float], thresholds: Thresholds) -> list[str]:
    """One line per metric outside its bounds (or missing); empty when every gate passes."""
    failures: list[str] = []
    for name, bound in sorted(thresholds.minimum.items()):
        if name not in metrics:
            failures.append(f"{name}: not computed (minimum {bound:g})")
        elif not metrics[name] >= bound:
            failures.append(f"{name} = {metrics[name]:.4g} is below the minimum {bound:g}")
    for name, bound in sorted(thresholds.maximum.items()):
        if name not in metrics:
            failures.append(f"{name}: not computed (maximum {bound:g})")
        elif not metrics[name] <= bound:
            failures.append(f"{name} = {metrics[name]:.4g} is above the maximum {bound:g}")
    return failures
