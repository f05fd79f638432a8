"""The answer composer: turns selected statements into the Markdown a clinician reads.

Everything stated as a fact is a verbatim quote followed by its citation labels;
the only words of our own are the lead line and the source line under a quote.
"""

from __future__ import annotations

from assistant.answer.schema import ABSTAIN_MESSAGE, Quote

LEAD_FOUND = "The guideline says (quoted verbatim):"


def citation_chips(labels: list[str]) -> str:
    """``["4", "5"]`` -> ``"[4] [5]"``; empty when the statement carries no citation."""
    return " ".join(f"[{label}]" for label in labels)


def render_quote(quote: Quote) -> str:
    """One quote as a Markdown block quote, its lead-in (for bullets) and its source line."""
    lines: list[str] = []
    if quote.context:
        lines.append(f"> *{_escape(quote.context)}*")
        lines.append(">")
    chips = citation_chips(quote.citations)
    lines.append(f"> {_escape(quote.text)}" + (f" {chips}" if chips else ""))
    where = f"{quote.section} — {quote.source}" if quote.section else quote.source
    lines.append(f"\n*Source: {_escape(where)}*")
    return "\n".join(lines)


def render_answer(lead: str, quotes: list[Quote]) -> str:
    """The full Markdown answer: lead line, then each quote in the order given."""
    if not quotes:
        return lead or ABSTAIN_MESSAGE
    blocks = [lead] + [render_quote(quote) for quote in quotes]
    return "\n\n".join(blocks)


def _escape(text: str) -> str:
    """One line per statement, so a wrapped statement stays inside its block quote.

    Front ends that render this Markdown escape it themselves (the UI shows every
    guideline string through ``ui.render.escape_markdown``).
    """
    return text.replace("\n", " ").strip()
