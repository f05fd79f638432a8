"""The view model: one answer as the parts a face draws, in the order it draws them.

:func:`answer_view` decides everything a reader sees — which alerts, with which
title and loudness (from :mod:`assistant.present.policy`), which notes are left
(none an alert already shows), the direct answer, the supporting groups with
their headings, the dose rows. The Streamlit page, the terminal and the chat
export only draw it in their medium, so they agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.answer.schema import ABSTAIN_MESSAGE, Answer, FlagCode, Quote
from assistant.present.policy import Loudness, flag_title, loudness, sorted_flags, visible_notes
from assistant.present.text import (
    dose_cells,
    dose_source_cells,
    group_heading,
    guidelines_heading,
    quote_location,
    split_direct,
)


@dataclass(frozen=True)
class Alert:
    """One guardrail flag as shown: our title, how loudly, and the flag's message."""

    code: FlagCode
    title: str
    loudness: Loudness
    text: str


@dataclass(frozen=True)
class GroupView:
    """Consecutive quotes of one guideline's section under their heading (title, page — section)."""

    heading: str
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class AnswerView:
    """Everything one answer shows, top to bottom; guideline text stays in the quotes, unedited."""

    question: str
    asked_as: str | None
    alerts: tuple[Alert, ...]
    abstained: bool
    lead: str
    summary: str | None
    summary_withheld: bool
    notes: tuple[str, ...]
    guidelines_heading: str | None
    direct: Quote | None
    direct_heading: str | None
    groups: tuple[GroupView, ...]
    dose_rows: tuple[tuple[str, ...], ...]  # plain cells: DOSE_COLUMNS then DOSE_SOURCE_COLUMNS
    citations: str  # "1, 2" or "none"
    total_ms: float

    @property
    def has_quotes(self) -> bool:
        return not self.abstained and (self.direct is not None or bool(self.groups))


def alerts(answer: Answer) -> tuple[Alert, ...]:
    """The answer's flags as alerts, loudest first, each distinct message once."""
    return tuple(
        Alert(code=flag.code, title=flag_title(flag), loudness=loudness(flag), text=flag.message)
        for flag in sorted_flags(answer.guardrail.flags)
    )


def answer_view(answer: Answer) -> AnswerView:
    """The answer's parts as they are shown (nothing here reads or edits guideline text)."""
    shown = not answer.abstained and bool(answer.quotes)
    direct, groups = split_direct(answer.quotes) if shown else (None, [])
    rows = (
        tuple((*cells, *where) for cells, where in zip(dose_cells(answer), dose_source_cells(answer), strict=True))
        if shown
        else ()
    )
    return AnswerView(
        question=answer.question,
        asked_as=answer.asked_as,
        alerts=alerts(answer),
        abstained=not shown,
        lead=answer.lead if shown else (answer.lead or ABSTAIN_MESSAGE),
        summary=answer.summary if answer.summary and not answer.summary_withheld else None,
        summary_withheld=answer.summary_withheld,
        notes=tuple(visible_notes(answer)),
        guidelines_heading=guidelines_heading(answer.quotes) if shown else None,
        direct=direct,
        direct_heading=quote_location(direct) if direct is not None else None,
        groups=tuple(GroupView(heading=group_heading(group), quotes=tuple(group.quotes)) for group in groups),
        dose_rows=rows,
        citations=", ".join(answer.citations) or "none",
        total_ms=answer.timings_ms.get("total", 0),
    )
