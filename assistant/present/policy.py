"""The flag policy: how every guardrail flag is titled, how loudly it is shown, and in what order.

This is data, read by every face: the Markdown export, the terminal and the
Streamlit page draw a flag with the title and loudness given here, so a tenfold
slip is never red in one and yellow in another. Only the colours belong to the
faces (``LOUDNESS_COLOURS`` for the terminal, the page's alert boxes).

A flag's loudness is the loudest of: its code's own loudness, the floor its
severity sets (a block is always danger), and the loudness its machine-readable
``risk`` sets (a tenfold slip or a >= 2x course total is danger). The English
message is never read to decide a colour.
An alert shows its message, so the same sentence among the answer's notes is
not shown again (:func:`visible_notes`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from assistant.answer.schema import Answer, Flag, FlagCode, Risk, Severity


class Loudness(str, Enum):
    """How loudly a flag is shown: danger (red), warning (amber) or info (a neutral panel, e.g. arithmetic)."""

    DANGER = "danger"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the loudest: alerts are listed loudest first."""
        return _RANKS[self]


_RANKS = {Loudness.DANGER: 0, Loudness.WARNING: 1, Loudness.INFO: 2}


@dataclass(frozen=True)
class FlagStyle:
    """One code's presentation: its title (our own words), its loudness and its place among the alerts."""

    title: str
    loudness: Loudness
    order: int


# One row per FlagCode (a test checks none is missing). ``order`` places alerts of equal loudness.
POLICY: dict[FlagCode, FlagStyle] = {
    FlagCode.DOSE_NOT_IN_SOURCE: FlagStyle("Dose not in the guideline", Loudness.WARNING, 0),
    FlagCode.DOSE_UNIT_MISMATCH: FlagStyle("Units differ from the guideline", Loudness.DANGER, 1),
    FlagCode.DOSE_MISMATCH: FlagStyle("Dose differs from the guideline", Loudness.WARNING, 2),
    FlagCode.DOSE_FREQUENCY_MISMATCH: FlagStyle("Frequency differs from the guideline", Loudness.WARNING, 3),
    FlagCode.DOSE_FORMAT_RISK: FlagStyle("Dose written in an error-prone way", Loudness.WARNING, 4),
    FlagCode.DOSE_OTHER_CONTEXT: FlagStyle("Dose stated for another context", Loudness.WARNING, 5),
    FlagCode.DOSES_DIFFER: FlagStyle("Different doses in the quoted statements", Loudness.WARNING, 6),
    FlagCode.DOSE_NOT_SPECIFIED: FlagStyle("No dose in the quoted text", Loudness.WARNING, 7),
    FlagCode.CALCULATION_REFUSED: FlagStyle("No calculation", Loudness.INFO, 8),
    FlagCode.CALCULATION: FlagStyle("Calculated for this patient", Loudness.INFO, 9),
}
TENFOLD_TITLE = "Tenfold dose error"
# The floor a flag's severity sets: a block is never shown quieter than danger, a warning than amber.
SEVERITY_FLOOR = {Severity.BLOCK: Loudness.DANGER, Severity.WARN: Loudness.WARNING, Severity.INFO: Loudness.INFO}
# The loudness a flag's risk sets, whatever its code (a risk not listed sets none).
RISK_FLOOR = {Risk.TENFOLD: Loudness.DANGER, Risk.OVERDOSE_TOTAL: Loudness.DANGER, Risk.UNIT: Loudness.DANGER}
RISK_TITLES = {Risk.TENFOLD: TENFOLD_TITLE, Risk.OVERDOSE_TOTAL: "Course total too high"}


def is_tenfold(flag: Flag) -> bool:
    """A dose ten (or more) times off the guideline's: a decimal-point slip, always shown as danger."""
    return flag.risk is Risk.TENFOLD


def flag_title(flag: Flag) -> str:
    """A flag's short title from its code (our own words, never guideline text)."""
    if flag.risk in RISK_TITLES:
        return RISK_TITLES[flag.risk]
    return POLICY[flag.code].title


def loudness(flag: Flag) -> Loudness:
    """The loudest of the code's loudness, the severity's floor and the risk's floor (never the message)."""
    candidates = [POLICY[flag.code].loudness, SEVERITY_FLOOR[flag.severity]]
    if flag.risk in RISK_FLOOR:
        candidates.append(RISK_FLOOR[flag.risk])
    return min(candidates, key=lambda found: found.rank)


def sorted_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Loudest first, then by the policy's order; each distinct message once."""
    unique = {(flag.code, flag.message): flag for flag in flags}
    return sorted(unique.values(), key=lambda flag: (loudness(flag).rank, POLICY[flag.code].order))


def visible_notes(answer: Answer) -> list[str]:
    """The answer's own notes that no alert already shows, so each sentence appears once."""
    shown = {flag.message for flag in answer.guardrail.flags}
    return list(dict.fromkeys(note for note in answer.notes if note not in shown))
