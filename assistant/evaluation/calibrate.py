"""Calibrating abstention for one library: ``guideline-assistant calibrate --gold FILE``.

The similarity bars that decide "the library does not address this" were first
set on one 31-statement guideline; in a library of thousands of statements
something is always similar, so the right bars depend on the library. This
re-runnable calibration searches a small grid of the four bars on a gold set's
tuning half, keeps the setting that finds the most facts and declines the most
out-of-scope questions while wrongly declining at most ``MAX_FALSE_ABSTAIN`` of
the answerable ones, and stores the result next to the index
(``calibration.json``). ``Assistant.load`` applies it to every setting the user
did not set explicitly. Retrieval runs once per question; only selection is
repeated per grid point, so a calibration takes about as long as one evaluation.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.answer.select import select_statements
from assistant.evaluation.gold import GoldItem
from assistant.evaluation.metrics import normalize_fact
from assistant.index.calibration import CALIBRATED_FIELDS, CALIBRATION_FILE, write_calibration
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.assistant import Assistant

MAX_FALSE_ABSTAIN = 0.03  # share of answerable questions a calibration may decline
GRID: dict[str, tuple[float, ...]] = {
    "abstain_threshold": (0.10, 0.15, 0.20, 0.25, 0.30),
    "general_threshold": (0.35, 0.40, 0.45, 0.50, 0.55),
    "strict_threshold": (0.55, 0.60, 0.65, 0.70),
    "uncovered_threshold": (0.45, 0.50, 0.55, 0.60, 0.65),
}


@dataclass(frozen=True)
class Outcome:
    """What one grid point does on the gold set."""

    values: dict[str, float]
    fact_recall: float
    abstention_recall: float
    false_abstention: float

    @property
    def score(self) -> float:
        return self.fact_recall + self.abstention_recall


@dataclass(frozen=True)
class Prepared:
    """A gold question with its analysis and hits, computed once."""

    item: GoldItem
    query: Query
    hits: list[Hit]


def prepare(assistant: Assistant, items: Sequence[GoldItem]) -> list[Prepared]:
    """Run retrieval once per question (the expensive part)."""
    searcher = assistant.searcher
    prepared = []
    for item in items:
        query = searcher.analyze(item.question)
        hits = searcher.search(query)
        hits += searcher.dose_statements(query, hits)
        prepared.append(Prepared(item, query, hits))
    return prepared


def outcome(prepared: Sequence[Prepared], settings: Settings, values: dict[str, float]) -> Outcome:
    """Fact recall, abstention recall and false-abstention rate of one setting of the bars."""
    facts_found = facts_total = declined = answerable = oos = oos_declined = 0
    for entry in prepared:
        abstained, selected = select_statements(entry.query, entry.hits, settings)
        if entry.item.abstain:
            oos += 1
            oos_declined += abstained
            continue
        answerable += 1
        declined += abstained
        text = "" if abstained else normalize_fact(" ".join(hit.chunk.text for hit in selected))
        facts_total += len(entry.item.facts)
        facts_found += sum(normalize_fact(fact) in text for fact in entry.item.facts)
    return Outcome(
        values=values,
        fact_recall=facts_found / facts_total if facts_total else 0.0,
        abstention_recall=oos_declined / oos if oos else 0.0,
        false_abstention=declined / answerable if answerable else 0.0,
    )


def search_grid(
    prepared: Sequence[Prepared], base: Settings, grid: dict[str, tuple[float, ...]] | None = None
) -> tuple[Outcome, Outcome]:
    """(the current settings' outcome, the best allowed grid point); ties keep the current values."""
    current_values = {name: float(getattr(base, name)) for name in CALIBRATED_FIELDS}
    current = outcome(prepared, base, current_values)
    best = current
    grid = grid or GRID
    for combination in itertools.product(*(grid[name] for name in CALIBRATED_FIELDS)):
        values = dict(zip(CALIBRATED_FIELDS, combination, strict=True))
        if values["general_threshold"] < values["abstain_threshold"]:
            continue
        result = outcome(prepared, base.with_overrides(**values), values)
        if result.false_abstention <= MAX_FALSE_ABSTAIN and result.score > best.score + 1e-9:
            best = result
    return current, best


def calibrate(
    assistant: Assistant,
    items: Sequence[GoldItem],
    gold_name: str,
    split: str,
    grid: dict[str, tuple[float, ...]] | None = None,
) -> dict[str, object]:
    """Calibrate on these gold items and store the result with the assistant's index."""
    prepared = prepare(assistant, items)
    current, best = search_grid(prepared, assistant.settings, grid)
    record: dict[str, object] = {
        "settings": best.values,
        "gold": gold_name,
        "split": split,
        "items": len(items),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "before": _figures(current),
        "after": _figures(best),
        "max_false_abstention": MAX_FALSE_ABSTAIN,
    }
    write_calibration(assistant.settings.index_dir, record)
    return record


def _figures(result: Outcome) -> dict[str, float]:
    return {
        "fact_recall": round(result.fact_recall, 4),
        "abstention_recall": round(result.abstention_recall, 4),
        "false_abstention": round(result.false_abstention, 4),
        **result.values,
    }


def describe(record: dict[str, object], index_dir: Path) -> str:
    """The calibration as a few lines for the terminal."""
    before, after = record["before"], record["after"]
    assert isinstance(before, dict) and isinstance(after, dict)
    lines = [f"Calibrated on {record['items']} questions ({record['gold']}, {record['split']} half)."]
    for key in ("fact_recall", "abstention_recall", "false_abstention", *CALIBRATED_FIELDS):
        lines.append(f"  {key:22s} {before[key]:>8} -> {after[key]}")
    lines.append(f"Stored in {index_dir / CALIBRATION_FILE}; Assistant.load applies it to settings you did not set.")
    return "\n".join(lines)
