"""Frequencies and courses: how often a dose is given, and a regimen in words.

The schedule patterns map every way a text writes a frequency ("bd", "twice a
day", "q8h", "every other day") to one canonical phrase; :data:`INTERVAL_DAYS`
says how many days lie between administrations for each canonical phrase.
:func:`course_words` and :func:`regimen_words` are the one way a regimen is
written back in a message ("IV, weekly, for 4 doses").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

WORD_NUMBERS: dict[str, str] = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "eight": "8", "twelve": "12",
}  # fmt: skip
# "N times a day" -> the canonical schedule (1-4 have names of their own).
TIMES_DAILY: dict[str, str] = {"1": "daily", "2": "twice daily", "3": "three times daily", "4": "four times daily"}
# Short forms of the time a dose is given per ("/d", "/wk", "/hr") -> the word.
PER_NAMES: dict[str, str] = {"d": "day", "wk": "week", "h": "hour", "hr": "hour", "min": "minute"}
# What a dose may be given per, as written after "/" or "per".
PER = r"days?|d|24\s?h(?:ours?|rs?)?|hours?|hrs?|h|minutes?|mins?|weeks?|wk|doses?|course"
# Days per unit of a course length; a month is read as 30 days.
DAYS: dict[str, float] = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1.0, "week": 7.0, "month": 30.0, "year": 365.0}
# Days between administrations, per canonical schedule.
INTERVAL_DAYS: dict[str, float] = {
    "daily": 1.0,
    "nightly": 1.0,
    "twice daily": 0.5,
    "three times daily": 1 / 3,
    "four times daily": 0.25,
    "every other day": 2.0,
    "weekly": 7.0,
    "monthly": 30.0,
}


def plural(word: str, count: str) -> str:
    """ "days", "1" -> "day"; "week", "2" -> "weeks"."""
    word = word.lower().rstrip("s")
    return word if count == "1" else word + "s"


def _q_hours(match: re.Match[str]) -> str:
    high = f"-{match.group(2)}" if match.group(2) else ""
    return f"q{match.group(1)}{high}h"


def _times_daily(match: re.Match[str]) -> str:
    written = match.group(1) or match.group(2)
    count = WORD_NUMBERS.get(written.lower(), written)
    return TIMES_DAILY.get(count, f"{count} times daily")


def _every_minutes(match: re.Match[str]) -> str:
    """ "every 6 minutes", "q6min", "every minute" -> "every 6 minutes" / "every 1 minute"."""
    count = match.group(1) or match.group(2) or "1"
    return f"every {count} {plural('minutes', count)}"


def interval_of(schedule: str) -> float | None:
    """Days between administrations for a canonical schedule ("q8h" -> 1/3, "every 6 minutes" -> 6/1440)."""
    if schedule in INTERVAL_DAYS:
        return INTERVAL_DAYS[schedule]
    if match := re.fullmatch(r"q(\d+)(?:-\d+)?h", schedule):
        return int(match.group(1)) / 24 or None
    if match := re.fullmatch(r"every (\d+) (minute|day|week|month|year)s?", schedule):
        return int(match.group(1)) * DAYS[match.group(2)] or None
    if match := re.fullmatch(r"(\d+) times (daily|weekly)", schedule):
        return (1.0 if match.group(2) == "daily" else 7.0) / int(match.group(1)) if int(match.group(1)) else None
    return None


def _every(match: re.Match[str]) -> str:
    count = match.group(1)
    return f"every {count} {plural(match.group(2), count)}"


# Written frequency -> canonical schedule, tried in order.
SCHEDULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"q\s?(\d+)(?:\s?-\s?(\d+))?\s?h(?:ours?|rs?)?(?![a-z])", re.I), _q_hours),
    (re.compile(r"every\s+(\d+)\s*(?:hours?|hrs?|h)(?![a-z])", re.I), lambda m: f"q{m.group(1)}h"),
    (
        re.compile(r"(?:every|each)\s+(?:(\d+)\s*)?(?:minutes?|mins?)(?![a-z])|q\s?(\d+)\s?mins?(?![a-z])", re.I),
        _every_minutes,
    ),
    (re.compile(r"(?:every\s+hour|each\s+hour|hourly|qh)(?![a-z])", re.I), lambda m: "q1h"),
    (re.compile(r"every\s+(\d+)\s+(days?|weeks?|months?|years?)(?![a-z])", re.I), _every),
    (
        re.compile(
            r"(\d+|one|two|three|four|five|six|eight|twelve)\s*(?:times|x)\s*(?:daily|a\s+day|per\s+day|/\s*day|each\s+day)"
            r"(?![a-z])|x\s?(\d+)\s+(?:daily|a\s+day|per\s+day)(?![a-z])",
            re.I,
        ),
        _times_daily,
    ),
    (re.compile(r"thrice\s+(?:daily|a\s+day|per\s+day)(?![a-z])", re.I), lambda m: "three times daily"),
    (re.compile(r"(?:every\s+other\s+day|(?:on\s+)?alternate\s+days|qod)(?![a-z])", re.I), lambda m: "every other day"),
    (
        re.compile(r"(?:twice|two\s+times)\s+(?:daily|a\s+day|per\s+day)|b\.?i\.?d\.?(?![a-z])|bd(?![a-z])", re.I),
        lambda m: "twice daily",
    ),
    (
        re.compile(r"(?:three\s+times)\s+(?:daily|a\s+day|per\s+day)|t\.?i\.?d\.?(?![a-z])|tds(?![a-z])", re.I),
        lambda m: "three times daily",
    ),
    (
        re.compile(r"(?:four\s+times)\s+(?:daily|a\s+day|per\s+day)|q\.?i\.?d\.?(?![a-z])|qds(?![a-z])", re.I),
        lambda m: "four times daily",
    ),
    (
        re.compile(
            r"(?:once\s+(?:daily|a\s+day|per\s+day)|daily|every\s+day|each\s+day|q\.?d\.?|o\.?d\.?)(?![a-z])", re.I
        ),
        lambda m: "daily",
    ),
    (
        re.compile(r"(two|three|2|3)\s+times\s+(?:a\s+|per\s+)?week(?:ly)?(?![a-z])", re.I),
        lambda m: f"{WORD_NUMBERS.get(m.group(1).lower(), m.group(1))} times weekly",
    ),
    (
        re.compile(r"(?:(?:once\s+)?weekly|once\s+(?:a|per)\s+week|every\s+week|each\s+week|q\s?wk|qw)(?![a-z])", re.I),
        lambda m: "weekly",
    ),
    (re.compile(r"(?:(?:once\s+)?monthly|once\s+a\s+month|every\s+month)(?![a-z])", re.I), lambda m: "monthly"),
    (re.compile(r"(?:nightly|at\s+night|at\s+bedtime|qhs|nocte)(?![a-z])", re.I), lambda m: "nightly"),
    # "once" is one administration: the same regimen as "a single dose" (the comparison treats them as one).
    (re.compile(r"(?:once|stat|one\s+time)(?![a-z])", re.I), lambda m: "once"),
]


def course_words(phrase: str) -> str:
    """One canonical course phrase as a message writes it (and the grammar reads back): "3 days" -> "for 3 days"."""
    if phrase == "single dose":
        return "as a single dose"
    if phrase == "repeat if necessary":
        return "repeated if necessary"
    if phrase == "repeat":
        return "repeated"
    if phrase.startswith("repeat "):
        return phrase.replace("repeat", "repeated", 1)
    if phrase == "continuous infusion":
        return "as a continuous infusion"
    if phrase == "indefinitely":
        return phrase
    if phrase == "abrupt stop":
        return "stopped abruptly"
    if phrase.startswith("taper"):
        return phrase.replace("taper", "tapered", 1)
    if phrase.startswith(("over ", "in ")) or phrase == "as needed":
        return phrase
    return f"for {phrase}"


def regimen_words(schedule: str | None, course: Iterable[str], route: str | None = None) -> str:
    """A regimen in words, for every message that states one: "IV, weekly, for 4 doses" ("" when none)."""
    parts = [part for part in (route, schedule) if part]
    parts += [course_words(phrase) for phrase in course]
    return ", ".join(part for part in parts if part)
