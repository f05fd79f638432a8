"""Presentation: the one place an :class:`~assistant.answer.Answer` becomes something a person reads.

The answer travels as data (lead, notes, summary, quotes, doses, flags). This package
owns every rendering of it and the flag policy:

- :mod:`~assistant.present.policy` — each flag's title, loudness (danger, warning, info),
  order, and the notes an alert already shows;
- :mod:`~assistant.present.text` — shared wording: locations, headings, grouping, dose cells;
- :mod:`~assistant.present.view` — the view model every face draws (alerts, direct answer,
  grouped quotes, dose rows);
- :mod:`~assistant.present.build_progress` — a build's progress in words (terminal and page);
- :mod:`~assistant.present.examples` — example questions for an empty chat;
- :mod:`~assistant.present.markdown` — the JSON ``answer`` field (filled once, after the
  guardrail, by :func:`rendered`) and the chat export;
- :mod:`~assistant.present.terminal` — rich renderables for the CLI (import it directly;
  it is not loaded here, so the web page does not load the terminal's code).
"""

from assistant.answer.labels import citation_chips, shown_section
from assistant.present.build_progress import BuildProgress, BuildSnapshot
from assistant.present.examples import GuidelineOutline, example_questions
from assistant.present.grades import grade_badge, grade_hover, grade_line
from assistant.present.markdown import (
    ExportHeader,
    citations_block,
    conversation_markdown,
    head_lines,
    index_build_id,
    markdown,
    render_answer,
    render_quote,
    render_references,
    rendered,
    unquoted_text,
)
from assistant.present.policy import (
    POLICY,
    FlagStyle,
    Loudness,
    flag_title,
    is_tenfold,
    loudness,
    sorted_flags,
    visible_notes,
)
from assistant.present.text import (
    ABSTAIN_TITLE,
    CLOSEST_LABEL,
    DIRECT_LABEL,
    DISCLAIMER,
    DOSE_COLUMNS,
    DOSE_SOURCE_COLUMNS,
    SUPPORTING_LABEL,
    WITHHELD_NOTICE,
    dose_cells,
    dose_lead,
    dose_quote,
    dose_source_cells,
    follow_up_line,
    group_heading,
    group_quotes,
    guideline_name,
    guidelines_heading,
    is_bare_lead_in,
    labels_in_text,
    one_line,
    page_text,
    quote_location,
    short_section,
    split_direct,
    table_doses,
    trailing_labels,
)
from assistant.present.view import Alert, AnswerView, GroupView, alert_text, alerts, answer_view

__all__ = [
    "BuildProgress",
    "BuildSnapshot",
    "ABSTAIN_TITLE",
    "CLOSEST_LABEL",
    "DIRECT_LABEL",
    "DISCLAIMER",
    "DOSE_COLUMNS",
    "DOSE_SOURCE_COLUMNS",
    "POLICY",
    "SUPPORTING_LABEL",
    "WITHHELD_NOTICE",
    "Alert",
    "ExportHeader",
    "citations_block",
    "index_build_id",
    "AnswerView",
    "FlagStyle",
    "GroupView",
    "GuidelineOutline",
    "Loudness",
    "alert_text",
    "alerts",
    "answer_view",
    "citation_chips",
    "conversation_markdown",
    "dose_cells",
    "dose_lead",
    "dose_quote",
    "dose_source_cells",
    "example_questions",
    "follow_up_line",
    "flag_title",
    "grade_badge",
    "grade_hover",
    "grade_line",
    "group_heading",
    "group_quotes",
    "guideline_name",
    "guidelines_heading",
    "head_lines",
    "is_bare_lead_in",
    "is_tenfold",
    "labels_in_text",
    "loudness",
    "markdown",
    "one_line",
    "page_text",
    "quote_location",
    "render_answer",
    "render_quote",
    "render_references",
    "rendered",
    "short_section",
    "shown_section",
    "sorted_flags",
    "split_direct",
    "table_doses",
    "trailing_labels",
    "unquoted_text",
    "visible_notes",
]
