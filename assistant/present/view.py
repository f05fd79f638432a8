"""The view model: one answer as the parts a face draws, in the order it draws them.

:func:`answer_view` decides everything a reader sees — which alerts, with which
title and loudness (from :mod:`assistant.present.policy`), which notes are left
(none an alert already shows), the direct answer, the supporting groups with
their headings, the dose rows. The Streamlit page, the terminal and the chat
export only draw it in their medium, so they agree by construction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.answer.labels import direct_label
from assistant.answer.schema import ABSTAIN_MESSAGE, Answer, FlagCode, Quote
from assistant.present.policy import Loudness, flag_title, loudness, sorted_flags, visible_notes
from assistant.present.text import (
    DIRECT_LABEL,
    dose_cells,
    dose_lead,
    dose_source_cells,
    follow_up_line,
    group_heading,
    guidelines_heading,
    quote_location,
    split_direct,
)
from assistant.vocabulary.intent import mentions_dosing


@dataclass(frozen=True)
class Alert:
    """One guardrail flag as shown: our title, how loudly, and the flag's message."""

    code: FlagCode
    title: str
    loudness: Loudness
    text: str
    result: str | None = None  # a calculation's result ("70 g"), shown on its own line above the working


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
    follow_up: str | None = None  # "IVIG dose in children (follow-up to: …)"
    direct_label: str = DIRECT_LABEL  # or "Closest statement" when its answer type is not the question's
    dose_lead: str | None = None  # drug, dose, schedule, route, citation and guideline of the direct dose
    several_guidelines: bool = False

    @property
    def show_dose_table(self) -> bool:
        """The table only when it adds something: several doses, or doses from several guidelines."""
        return len(self.dose_rows) > 1 or (bool(self.dose_rows) and self.several_guidelines)

    @property
    def has_quotes(self) -> bool:
        return not self.abstained and (self.direct is not None or bool(self.groups))


# A quotation inside a flag's message: the statement itself, shown right below the alert anyway.
_QUOTATION = re.compile(r":?\s*[“\"]([^”\"]{25,})[”\"]")
_RESULT = re.compile(r"=\s*(?P<result>\d[\d.,]*(?:\s*[-–]\s*\d[\d.,]*)?\s*[A-Za-zµμ/]+)")
QUOTED_BELOW = " (quoted below)"


def _squashed(text: str) -> str:
    return " ".join(text.split())


def alert_text(message: str, quotes: list[Quote]) -> str:
    """A flag's message as an alert says it: guideline titles for file names, no statement quoted again.

    The statement is the direct answer right below the alert; quoting it in the
    alert too makes a dose answer three copies of one dose.
    """
    for quote in quotes:
        if quote.title and quote.source in message:
            message = message.replace(quote.source, quote.title)
    statements = [_squashed(quote.text) for quote in quotes]

    def drop(match: re.Match[str]) -> str:
        inner = _squashed(match.group(1))
        if not any(inner in text or text in inner for text in statements):
            return match.group(0)
        return QUOTED_BELOW + ("." if inner.endswith((".", "!", "?")) else "")

    return _QUOTATION.sub(drop, message)


def calculation_result(message: str) -> str | None:
    """The result of a calculation's arithmetic ("… = 70 g …" -> "70 g"), shown in bold above the working."""
    found = _RESULT.search(message)
    return found.group("result").strip() if found else None


def alerts(answer: Answer) -> tuple[Alert, ...]:
    """The answer's flags as alerts, loudest first, each distinct message once."""
    return tuple(
        Alert(
            code=flag.code,
            title=flag_title(flag),
            loudness=loudness(flag),
            text=alert_text(flag.message, answer.quotes),
            result=calculation_result(flag.message) if flag.code is FlagCode.CALCULATION else None,
        )
        for flag in sorted_flags(answer.guardrail.flags)
    )


# A dose stated for another patient group or differing between statements must not be summed up as "the dose".
_NO_LEAD = frozenset({FlagCode.DOSE_OTHER_CONTEXT, FlagCode.DOSES_DIFFER, FlagCode.DOSE_NOT_SPECIFIED})


def _lead_is_safe(answer: Answer, direct: Quote | None) -> bool:
    """A dose lead line only for a dose question's direct answer whose dose no flag puts in doubt."""
    question = answer.asked_as or answer.question
    if direct is None or not mentions_dosing(question) or direct_label(question, direct.text) != DIRECT_LABEL:
        return False
    return not any(flag.code in _NO_LEAD for flag in answer.guardrail.flags)


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
        follow_up=follow_up_line(answer.question, answer.asked_as),
        direct_label=direct_label(answer.asked_as or answer.question, direct.text) if direct else DIRECT_LABEL,
        dose_lead=dose_lead(answer, direct) if shown and _lead_is_safe(answer, direct) else None,
        several_guidelines=len({quote.source for quote in answer.quotes}) > 1,
    )
