"""The grade badge beside a quote: "Class I · LOE A", "Strong · moderate-quality evidence", "Grade D".

One function per face-neutral piece (the badge, its hover text), so the terminal,
the Markdown export and the chat draw the same words. The badge is our own
compact reading of the guideline's grade; the hover text is the guideline's own:
the grade as written and, where the guideline has a legend, what that grade means.
"""

from __future__ import annotations

from assistant.answer.schema import Quote
from assistant.present.text import one_line
from assistant.vocabulary.grades import Grade, badge_label

WORDING_NOTE = "NICE states the strength of a recommendation by its wording"


def grade_badge(quote: Quote) -> str | None:
    """The compact badge for a quote's grade, or None when the guideline grades it nowhere."""
    return badge_label(quote.grade) if quote.grade is not None else None


def grade_hover(grade: Grade) -> str:
    """What the badge stands for: the grade as the guideline writes it, and its legend where there is one."""
    parts = [f"As written: {one_line(grade.text)}"]
    if grade.heading:
        parts.append(f"under the heading “{one_line(grade.heading)}”")
    if grade.wording:
        parts.append(WORDING_NOTE)
    if grade.meaning:
        parts.append(f"The guideline's legend: {one_line(grade.meaning)}")
    return " — ".join(parts)


def grade_line(quote: Quote) -> str | None:
    """The badge with its hover text on one line, for plain-text and Markdown faces."""
    if quote.grade is None:
        return None
    return f"Grade: {grade_badge(quote)} ({grade_hover(quote.grade)})"
