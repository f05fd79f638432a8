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
from assistant.answer import Answer, Quote
from assistant.errors import AssistantError
from ui import grades, render

DocumentSource = Callable[[str], Any]  # Assistant.document: source -> parsed guideline
ALERT_ICONS = {"error": ":material/dangerous:", "warning": ":material/warning:"}


def show_alert(alert: present.Alert, key: str) -> None:
    """One alert of the view model: a red or amber box, or a neutral calculation panel with the arithmetic."""
    kind = render.alert_kind(alert)
    if kind == "calculation":
        with st.container(key=f"ga-calc-{key}"):
            st.markdown(f":material/calculate: **{render.escape_markdown(alert.title)}**")
            if alert.result:
                with st.container(key=f"ga-result-{key}"):
                    st.text(alert.result)
            st.text(alert.text)
        return
    box = st.error if kind == "error" else st.warning
    with st.container(key=f"ga-alert-{kind}-{key}"):  # styled as one box with the alert above it
        box(f"**{render.escape_markdown(alert.title)}**", icon=ALERT_ICONS[kind])
        st.text(alert.text)


def show_citations(quote: Quote, key: str) -> None:
    """Small popovers only for labels the guideline's reference list resolves (other labels are
    superscripts in the statement's line, :func:`ui.render.quote_line`)."""
    entries = {reference.label: reference.text for reference in quote.references}
    chips = [label for label in quote.citations if label in entries]
    if not chips:
        return
    with st.container(horizontal=True, key=f"ga-cites-{key}", gap="small"):
        for label in chips:
            with st.popover(render.escape_markdown(f"[{label}]"), width="content", type="tertiary"):
                st.text(f"[{label}] {entries[label]}")


def show_quote(quote: Quote, key: str) -> None:
    """A quoted statement: its lead-in (for a bullet) as the context line, the text, its citation chips."""
    with st.container(key=f"ga-quote-{key}"):
        if quote.context:
            with st.container(key=f"ga-ctx-{key}"):
                st.text(quote.context)
        st.text(render.quote_line(quote))
        grades.show_grade(quote, key)
        show_citations(quote, key)


def show_section(document: DocumentSource | None, quotes: Sequence[Quote], key: str) -> None:
    """The whole section the quotes come from, each quoted statement highlighted (one view per section)."""
    with st.expander("Whole section", icon=":material/article:"):
        heading = quotes[0].section
        if heading and present.short_section(heading) != heading:  # the label above was shortened
            show_heading(heading, f"full-{key}")
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


def show_quotes(answer: Answer, view: present.AnswerView, document: DocumentSource | None, key: str) -> None:
    """The direct answer first and marked, then supporting statements grouped by guideline and section."""
    direct, groups = view.direct, view.groups
    shown_sections: set[tuple[str, str | None]] = set()

    def section_view(quotes: Sequence[Quote], name: str) -> None:
        where = (quotes[0].source, quotes[0].section)
        if where in shown_sections:
            return
        shown_sections.add(where)
        in_section = [q for q in answer.quotes if (q.source, q.section) == where]
        show_section(document, in_section, name)

    if direct is not None and view.direct_heading is not None:
        icon = ":material/check_circle:" if view.direct_label == render.DIRECT_LABEL else ":material/help:"
        st.markdown(f"{icon} **{render.escape_markdown(view.direct_label)}**")
        show_heading(view.direct_heading, f"d-{key}")
        show_quote(direct, f"d-{key}")
        later = {(q.source, q.section) for group in groups for q in group.quotes}
        if (direct.source, direct.section) not in later:
            section_view([direct], f"d-{key}")
        if groups:
            st.markdown(f"**{render.SUPPORTING_LABEL}**")
    for number, group in enumerate(groups):
        name = f"s-{key}-{number}"
        show_heading(group.heading, name)
        for index, quote in enumerate(group.quotes):
            show_quote(quote, f"{name}-{index}")
        section_view(group.quotes, name)


def show_answer(answer: Answer, document: DocumentSource | None, key: str) -> None:
    """The view model drawn: alerts once, loudest first, then our own lines, the quotes, doses and citations."""
    view = present.answer_view(answer)
    if view.follow_up:
        st.caption("Answered as:")
        st.text(view.follow_up)
    for number, alert in enumerate(view.alerts):
        show_alert(alert, f"{key}-{number}")
    if view.abstained:
        lead = render.escape_markdown(view.lead)
        st.info(f"**{render.ABSTAIN_TITLE}.** {lead} {render.ABSTAIN_HINT}", icon=":material/menu_book:")
        for note in view.notes:
            st.text(note)
        return
    if view.summary_withheld:
        st.error(render.WITHHELD_NOTICE)
    if view.summary:
        st.text(view.summary)
    for note in view.notes:
        st.text(note)
    if view.dose_lead:
        with st.container(key=f"ga-lead-{key}"):
            st.text(view.dose_lead)
    st.caption(render.escape_markdown(view.lead))
    if view.guidelines_heading:
        show_heading(view.guidelines_heading, f"many-{key}")
    show_quotes(answer, view, document, key)
    if view.show_dose_table:
        st.markdown("**Doses in the quoted statements**")
        st.table(render.dose_rows(answer), hide_index=True)
    st.caption(f"Citations: {render.escape_markdown(view.citations)} · {view.total_ms:.0f} ms")
