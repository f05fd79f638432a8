"""One answer on the page: alerts once by severity, the direct answer first, then grouped support.

The page renders the structured answer and decides nothing: which statement is
the direct answer, how quotes group and what the flags say all come from the
:class:`~assistant.answer.Answer`. Guideline text is always written with
``st.text`` inside keyed containers (styled by ``render.PAGE_STYLE``), so a URL,
an e-mail address or ``:material/…:`` in a guideline is shown as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from assistant import present
from assistant.answer import ABSTAIN_MESSAGE, Answer, Flag, Quote
from assistant.errors import AssistantError
from ui import render

DocumentSource = Callable[[str], Any]  # Assistant.document: source -> parsed guideline
ALERT_ICONS = {"error": ":material/dangerous:", "warning": ":material/warning:"}


def show_flag(flag: Flag, key: str) -> None:
    """One guardrail flag: a red or amber box, or a neutral calculation panel with the arithmetic."""
    kind = render.alert_kind(flag)
    if kind == "calculation":
        with st.container(key=f"ga-calc-{key}"):
            st.markdown(f":material/calculate: **{render.flag_title(flag)}**")
            st.text(flag.message)
        return
    alert = st.error if kind == "error" else st.warning
    with st.container(key=f"ga-alert-{kind}-{key}"):  # styled as one box with the alert above it
        alert(f"**{render.escape_markdown(render.flag_title(flag))}**", icon=ALERT_ICONS[kind])
        st.text(flag.message)


def show_citations(quote: Quote, key: str) -> None:
    """One small popover per citation label, opening the guideline's reference-list entry."""
    if not quote.citations:
        return
    entries = {reference.label: reference.text for reference in quote.references}
    with st.container(horizontal=True, key=f"ga-cites-{key}", gap="small"):
        for label in quote.citations:
            with st.popover(render.escape_markdown(f"[{label}]"), width="content"):
                if label in entries:
                    st.text(f"[{label}] {entries[label]}")
                else:
                    st.caption("This guideline's reference list has no entry for this label.")


def show_quote(quote: Quote, key: str) -> None:
    """A quoted statement: its lead-in (for a bullet) as the context line, the text, its citation chips."""
    with st.container(key=f"ga-quote-{key}"):
        if quote.context:
            with st.container(key=f"ga-ctx-{key}"):
                st.text(quote.context)
        st.text(quote.text)
        show_citations(quote, key)


def show_section(document: DocumentSource | None, quotes: Sequence[Quote], key: str) -> None:
    """The whole section the quotes come from, each quoted statement highlighted (one view per section)."""
    with st.expander("Whole section", icon=":material/article:"):
        try:
            pieces = render.section_segments(document(quotes[0].source), quotes) if document else []
        except AssistantError as exc:
            st.text(str(exc))
            return
        if not pieces:
            st.caption("The section text is not available.")
        for number, (text, highlighted) in enumerate(pieces):
            if highlighted:
                with st.container(key=f"ga-hl-{key}-{number}"):
                    st.text(text)
            else:
                st.text(text)


def show_heading(text: str, key: str) -> None:
    """A group heading made of guideline text (title, page, section): bold by style, never Markdown."""
    with st.container(key=f"ga-group-{key}"):
        st.text(text)


def show_quotes(answer: Answer, document: DocumentSource | None, key: str) -> None:
    """The direct answer first and marked, then supporting statements grouped by guideline and section."""
    direct, groups = present.split_direct(answer.quotes)
    shown_sections: set[tuple[str, str | None]] = set()

    def section_view(quotes: list[Quote], name: str) -> None:
        where = (quotes[0].source, quotes[0].section)
        if where in shown_sections:
            return
        shown_sections.add(where)
        in_section = [q for q in answer.quotes if (q.source, q.section) == where]
        show_section(document, in_section, name)

    if direct is not None:
        st.markdown(f":material/check_circle: **{render.DIRECT_LABEL}**")
        show_heading(present.quote_location(direct), f"d-{key}")
        show_quote(direct, f"d-{key}")
        later = {(q.source, q.section) for group in groups for q in group.quotes}
        if (direct.source, direct.section) not in later:
            section_view([direct], f"d-{key}")
        if groups:
            st.markdown(f"**{render.SUPPORTING_LABEL}**")
    for number, group in enumerate(groups):
        name = f"s-{key}-{number}"
        show_heading(present.group_heading(group), name)
        for index, quote in enumerate(group.quotes):
            show_quote(quote, f"{name}-{index}")
        section_view(group.quotes, name)


def show_answer(answer: Answer, document: DocumentSource | None, key: str) -> None:
    """Alerts once by severity, then our own lines, the quotes, the dose table and the citations."""
    if answer.asked_as:
        st.caption("Answered as:")
        st.text(answer.asked_as)
    for number, flag in enumerate(render.sorted_flags(answer.guardrail.flags)):
        show_flag(flag, f"{key}-{number}")
    notes = render.visible_notes(answer)
    if answer.abstained or not answer.quotes:
        lead = render.escape_markdown(answer.lead or ABSTAIN_MESSAGE)
        st.info(f"**{render.ABSTAIN_TITLE}.** {lead} {render.ABSTAIN_HINT}", icon=":material/menu_book:")
        for note in notes:
            st.text(note)
        return
    if answer.summary_withheld:
        st.error(render.WITHHELD_NOTICE)
    if answer.summary and not answer.summary_withheld:
        st.text(answer.summary)
    for note in notes:
        st.text(note)
    st.caption(render.escape_markdown(answer.lead))
    several = present.guidelines_heading(answer.quotes)
    if several:
        show_heading(several, f"many-{key}")
    show_quotes(answer, document, key)
    if answer.doses:
        st.markdown("**Doses in the quoted statements**")
        st.table(render.dose_rows(answer), hide_index=True)
    citations = ", ".join(answer.citations) or "none"
    st.caption(f"Citations: {render.escape_markdown(citations)} · {answer.timings_ms.get('total', 0):.0f} ms")
