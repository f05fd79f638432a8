"""The terminal view: the answer's view model as rich renderables for ``guideline-assistant ask``.

Alerts come first, titled and coloured by the flag policy (the colour for each
loudness is the only thing decided here), then our own lines, the direct answer
and the grouped supporting statements, the dose table and the citations. Every
string is a :class:`rich.text.Text` (never parsed as markup), and control,
bidirectional and invisible characters are shown as visible escapes, so guideline
text cannot change what the terminal draws ("1 g/kg" drawn as "10 g/kg").
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.console import RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from assistant.answer.labels import citation_chips
from assistant.answer.schema import Answer, Quote
from assistant.present.grades import grade_badge, grade_hover
from assistant.present.policy import Loudness
from assistant.present.text import (
    ABSTAIN_TITLE,
    DIRECT_LABEL,
    DOSE_COLUMNS,
    SUPPORTING_LABEL,
    WITHHELD_NOTICE,
)
from assistant.present.view import Alert, AnswerView, answer_view

LOUDNESS_COLOURS = {Loudness.DANGER: "red", Loudness.WARNING: "yellow", Loudness.INFO: "cyan"}
DOSE_TABLE_TITLE = "Doses in the quoted statements"

# Control characters (ANSI escapes, carriage returns, backspaces), bidirectional overrides and
# invisible characters are each shown as a visible \xNN or \uNNNN escape.
SHOWN_ESCAPED = {
    code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0), 0x061C, *range(0x200B, 0x2010),
                 *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0xFEFF]
}


def visible(text: str) -> str:
    """Text with every control or invisible character made visible (line breaks kept)."""
    return text.replace("\r\n", "\n").translate(SHOWN_ESCAPED)


def plain(text: str, style: str = "") -> Text:
    """Our or the guideline's words as terminal text: never markup, nothing invisible."""
    return Text(visible(text), style=style)


def alert_style(alert: Alert) -> str:
    """The style an alert's title is drawn in: bold, in its loudness's colour."""
    return f"bold {LOUDNESS_COLOURS[alert.loudness]}"


def alert_line(alert: Alert) -> Text:
    """``Tenfold dose error: <message>``, the title in the loudness colour."""
    return Text.assemble((visible(alert.title) + ":", alert_style(alert)), " ", visible(alert.text))


def quote_panel(quote: Quote, heading: str, style: str = "") -> Panel:
    """A quoted statement: its lead-in dimmed, the text, its citation chips above and its source below."""
    body = Text()
    if quote.context:
        body.append(visible(quote.context) + "\n", style="dim italic")
    body.append(visible(quote.text))
    chips = citation_chips(quote.citations)
    if quote.grade is not None:  # the badge beside the quote, the grade as written and its legend below it
        body.append("\n" + visible(grade_hover(quote.grade)), style="dim")
        chips = " · ".join(part for part in (chips, f"Grade: {grade_badge(quote)}") if part)
    return Panel(
        body,
        title=plain(chips) if chips else None,
        subtitle=plain(heading),
        title_align="left",
        subtitle_align="right",
        border_style=style or "none",
    )


def dose_table(view: AnswerView) -> Table:
    table = Table(title=DOSE_TABLE_TITLE, title_justify="left")
    for column in DOSE_COLUMNS:
        table.add_column(column)
    for row in view.dose_rows:
        table.add_row(*(plain(cell) for cell in row[: len(DOSE_COLUMNS)]))
    return table


def renderables(answer: Answer) -> Iterator[RenderableType]:
    """The whole answer for the terminal, top to bottom."""
    view = answer_view(answer)
    if view.follow_up:
        yield plain(f"Answered as: {view.follow_up}", "dim")
    yield from (alert_line(alert) for alert in view.alerts)
    if view.abstained:
        yield Panel(plain(view.lead), title=plain(ABSTAIN_TITLE), border_style="blue")
        yield from (plain(note) for note in view.notes)
        return
    if view.summary_withheld:
        yield plain(WITHHELD_NOTICE, "red")
    if view.summary:
        yield plain(view.summary)
    yield from (plain(note) for note in view.notes)
    if view.dose_lead:
        yield plain(view.dose_lead, "bold")
    yield plain(view.lead)
    if view.guidelines_heading:
        yield plain(view.guidelines_heading, "bold")
    if view.direct is not None and view.direct_heading is not None:
        direct = view.direct_label == DIRECT_LABEL
        yield plain(view.direct_label, "bold green" if direct else "bold")
        yield quote_panel(view.direct, view.direct_heading, "green" if direct else "")
        if view.groups:
            yield plain(SUPPORTING_LABEL, "bold")
    for group in view.groups:
        yield from (quote_panel(quote, group.heading) for quote in group.quotes)
    if view.dose_rows:
        yield dose_table(view)
    yield plain(f"Citations: {view.citations} · {view.total_ms:.0f} ms", "dim")
