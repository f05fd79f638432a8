"""Frequencies read as a person reads them, and the days between doses each one means (issue 21)."""

from __future__ import annotations

import pytest

from assistant.guardrails.doses import parse_question_doses
from assistant.vocabulary.schedules import interval_of

# (written, canonical schedule, days between administrations)
FREQUENCIES = [
    ("every hour", "q1h", 1 / 24),
    ("hourly", "q1h", 1 / 24),
    ("each hour", "q1h", 1 / 24),
    ("every 6 minutes", "every 6 minutes", 6 / 1440),
    ("every minute", "every 1 minute", 1 / 1440),
    ("q20min", "every 20 minutes", 20 / 1440),
    ("4 times a day", "four times daily", 0.25),
    ("four times a day", "four times daily", 0.25),
    ("6 times a day", "6 times daily", 1 / 6),
    ("thrice daily", "three times daily", 1 / 3),
    ("3 x daily", "three times daily", 1 / 3),
    ("every 24 hours", "q24h", 1.0),
    ("q24h", "q24h", 1.0),
    ("once a day", "daily", 1.0),
    ("every 2 years", "every 2 years", 730.0),
    ("weekly", "weekly", 7.0),
]


@pytest.mark.parametrize(("written", "schedule", "days"), FREQUENCIES, ids=[f[0] for f in FREQUENCIES])
def test_each_frequency_has_one_canonical_schedule_and_interval(written: str, schedule: str, days: float) -> None:
    (dose,) = parse_question_doses(f"drug 1 g {written}")
    assert dose.schedule == schedule
    assert interval_of(schedule) == pytest.approx(days)


@pytest.mark.parametrize("schedule", ["once", "as needed", "every 0 minutes", "0 times daily"])
def test_a_schedule_without_an_interval_gives_none(schedule: str) -> None:
    assert interval_of(schedule) is None
