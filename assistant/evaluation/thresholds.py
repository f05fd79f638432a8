"""The gates: ``evals/thresholds.toml`` read, validated and checked against a run's metrics.

Kept apart from the metrics so that CI's pass/fail rule is one small file to read, and
so the CLI can reject a bad thresholds file before it spends minutes on a run.

A gated metric that is n/a (None: the gold set gives it nothing to measure, e.g. citation
recall on a gold file without labels) is reported as "n/a (nothing to measure)" and does not
fail: a user's own gold file must not fail CI for a question kind it never asks.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from assistant.evaluation.metrics import METRIC_NAMES, Metrics
from assistant.settings import PROJECT_ROOT

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

# Per-style and per-tag evidence recall (cross-validated runs report them): "style.lay.answer.evidence_recall".
GROUP_METRIC = re.compile(r"(?:style|tag)\.[a-z0-9]+(?:-[a-z0-9]+)*\.answer\.evidence_recall")

DEFAULT_THRESHOLDS = PROJECT_ROOT / "evals" / "thresholds.toml"


class Thresholds(BaseModel):
    """``evals/thresholds.toml``: a metric must be >= its ``minimum`` and <= its ``maximum``."""

    model_config = ConfigDict(extra="forbid")

    minimum: dict[str, float] = {}
    maximum: dict[str, float] = {}

    @field_validator("minimum", "maximum")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(name for name in set(value) - METRIC_NAMES if not GROUP_METRIC.fullmatch(name))
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


NOT_MEASURED = "n/a (nothing to measure)"


def check_thresholds(metrics: Metrics, thresholds: Thresholds) -> list[str]:
    """One line per metric outside its bounds (or missing); empty when every gate passes.

    A metric that is present but None (n/a) is not a failure; :func:`not_measured` lists it.
    A missing metric still fails: that is a bug in the run, not an empty gold set.
    """
    failures: list[str] = []
    for name, bound in sorted(thresholds.minimum.items()):
        value = metrics.get(name)
        if name not in metrics:
            failures.append(f"{name}: not computed (minimum {bound:g})")
        elif value is not None and not value >= bound:
            failures.append(f"{name} = {value:.4g} is below the minimum {bound:g}")
    for name, bound in sorted(thresholds.maximum.items()):
        value = metrics.get(name)
        if name not in metrics:
            failures.append(f"{name}: not computed (maximum {bound:g})")
        elif value is not None and not value <= bound:
            failures.append(f"{name} = {value:.4g} is above the maximum {bound:g}")
    return failures


def not_measured(metrics: Metrics, thresholds: Thresholds) -> list[str]:
    """One line per gated metric that is n/a in this run ("citations.recall: n/a (nothing to measure)")."""
    gated = sorted(set(thresholds.minimum) | set(thresholds.maximum))
    return [f"{name}: {NOT_MEASURED}" for name in gated if name in metrics and metrics[name] is None]


def gate_summary(metrics: Metrics, thresholds: Thresholds) -> str:
    """The closing line of a passing run: how many gates passed and which could not be measured."""
    skipped = [line.split(":")[0] for line in not_measured(metrics, thresholds)]
    total = len(thresholds.minimum) + len(thresholds.maximum)
    if not skipped:
        return f"All {total} thresholds pass."
    return (
        f"All {total - len(skipped)} measured thresholds pass; {len(skipped)} {NOT_MEASURED}: {', '.join(skipped)}."
    )
