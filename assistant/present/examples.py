"""Example questions for an empty chat: doses the library states, then topics its sections cover.

Drugs are recognised with the one drug vocabulary (:func:`~assistant.vocabulary.drugs.find_drugs`)
and amounts with the one amount pattern (``AMOUNT``), so an example never names a drug or
a dose the guardrail would read differently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.vocabulary.drugs import find_drugs
from assistant.vocabulary.units import AMOUNT

_ACRONYM = re.compile(r"^[A-Z][A-Z0-9-]{2,}$")
_GENERIC_SECTIONS = re.compile(r"(?i)^(references?|bibliography|introduction|background|summary|abstract|scope)\b")
_WINDOW = 80  # characters before an amount in which its drug is looked for (about eight words)


@dataclass(frozen=True)
class GuidelineOutline:
    """What the examples are made from: a guideline's title, section titles and statement texts."""

    title: str
    sections: tuple[str, ...]
    statements: tuple[str, ...]


def _drug_before(statement: str, position: int) -> str | None:
    """The nearest drug named before an amount, as written for an acronym (IVIG), else in lower case."""
    mentions = find_drugs(statement[max(0, position - _WINDOW) : position])
    if not mentions:
        return None
    surface = mentions[-1].surface
    return surface if _ACRONYM.match(surface) else surface.lower()


def _topic(section: str) -> str:
    """A section title as words in a sentence: "First-Line Treatment" -> "first-line treatment", "IVIG" kept."""
    return " ".join(word if _ACRONYM.match(word) else word.lower() for word in section.split())


def example_questions(outlines: Sequence[GuidelineOutline], limit: int = 4) -> list[str]:
    """Three or four questions the library can answer: doses it states, then topics its sections cover."""
    per_guideline: list[list[str]] = []
    for outline in outlines:
        found: dict[str, str] = {}
        for statement in outline.statements:
            for match in AMOUNT.finditer(statement):
                drug = _drug_before(statement, match.start())
                if drug:
                    found.setdefault(drug.lower(), drug)
        per_guideline.append(list(found.values()))
    # One drug from each guideline in turn, so a library's examples are not all from its first file.
    rounds = [
        drugs[n] for n in range(max(map(len, per_guideline), default=0)) for drugs in per_guideline if n < len(drugs)
    ]
    drugs = list(dict.fromkeys(rounds))
    questions = [f"What dose of {drug} is recommended?" for drug in drugs[:2]]
    topics = [
        (outline.title, section)
        for outline in outlines
        for section in outline.sections
        if section and section != outline.title and not _GENERIC_SECTIONS.match(section)
    ]
    for title, section in topics:
        if len(questions) >= limit:
            break
        questions.append(f"What does {title} say about {_topic(section)}?")
    if not questions:
        questions = [f"What does {outline.title} recommend?" for outline in outlines[:limit]]
    return list(dict.fromkeys(questions))[:limit]
