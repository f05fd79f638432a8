"""Labels in our own words that the guardrail's messages and every rendering share.

Both are about how a statement is named, not how an answer is laid out, so they live
at the answer stage: the guardrail writes them into its messages without importing
the presentation package, and :mod:`assistant.present` re-exports them.
"""

from __future__ import annotations

from collections.abc import Iterable

from assistant.vocabulary.intent import statement_answers
from assistant.vocabulary.units import AMOUNT


def citation_chips(labels: Iterable[str]) -> str:
    """``["4", "5"]`` -> ``"[4] [5]"``; empty when the statement carries no citation."""
    return " ".join(f"[{label}]" for label in labels)


# A PDF line read as a heading can hold a dose ("... azithromycin 1 g/week for 2 weeks"): such a
# heading is left out of our labels, so no number ever appears outside a verbatim quote.
def shown_section(section: str | None) -> str | None:
    """A section heading as labels show it: None when it states an amount, else at most 100 characters."""
    if not section or AMOUNT.search(section):
        return None
    return section if len(section) <= 100 else section[:99] + "…"


DIRECT_LABEL = "Direct answer"
CLOSEST_LABEL = "Closest statement"


def direct_label(question: str, statement: str) -> str:
    """ "Direct answer" only when the statement gives the answer type the question asks for, else "Closest statement".

    A diagnosis sentence is not the direct answer to a treatment question, nor a
    survey's finding to "what medication is used for…": calling it one would be
    read as the guideline's answer.
    """
    return DIRECT_LABEL if statement_answers(question, statement) else CLOSEST_LABEL
