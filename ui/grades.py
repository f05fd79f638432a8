"""Grades on the page: the badge beside each quote (the legend on hover) and the "strong only" filter.

The words come from :mod:`assistant.present` (the same badge the terminal and the
Markdown export show); the filter is passed to ``Assistant.ask`` as ``min_strength``,
which puts it into the one Query the question is searched with.
"""

from __future__ import annotations

import streamlit as st

from assistant import present
from assistant.answer import Quote

STRONG_ONLY_LABEL = "Strong recommendations only"
STRONG_ONLY_HELP = (
    "Quote only statements the guideline itself grades as strong (Class I or III, GRADE strong, "
    "NICE 'offer'/'do not offer'). Ungraded statements and bare letter grades are left out."
)


def strong_only_filter() -> str | None:
    """The sidebar switch: ``"strong"`` when on, else None (every statement)."""
    on = st.toggle(STRONG_ONLY_LABEL, key="strong_only", help=STRONG_ONLY_HELP)
    return "strong" if on else None


def show_grade(quote: Quote, key: str) -> None:
    """The compact badge beside a quote; hovering or tapping its help icon shows the grade as written and its legend."""
    badge = present.grade_badge(quote)
    if badge is None or quote.grade is None:
        return
    with st.container(key=f"ga-grade-{key}"):
        st.caption(f":material/verified: {_plain(badge)}", help=_plain(present.grade_hover(quote.grade)))


def _plain(text: str) -> str:
    """Guideline words in a caption, shown as typed (no Markdown)."""
    from ui import render

    return render.escape_markdown(text)
