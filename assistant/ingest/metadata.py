"""What a guideline is about: title, conditions and population covered, publisher, year, pages.

Read from the document itself (its title and sections such as "Scope",
"Target population", "Disease/Condition(s)"), never from a list of known
guidelines, so a clinician's own files are described the same way. Retrieval
can use it to route a question to the right guideline; ``index status`` lists it.
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, ConfigDict, Field

from assistant.ingest.extracted import PageSpan
from assistant.ingest.parser import Document

_SCOPE_HEADINGS = re.compile(
    r"(?i)\b(scope|disease|condition|target population|population|who is it for|patients? covered|"
    r"guideline objective|objective|purpose|remit|background|introduction)\b"
)
_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
# Publishers are read only from an organisation's own name in the title or front matter: an acronym
# alone is not one ("AHA" in a haematology text is acquired haemophilia A, not the American Heart
# Association). An acronym counts only where it names itself as a publisher ("NICE guideline NG…").
_PUBLISHERS = re.compile(
    r"\b(National Institute for Health and (?:Care|Clinical) Excellence|World Health Organi[sz]ation|"
    r"Scottish Intercollegiate Guidelines Network|Centers for Disease Control and Prevention|"
    r"Infectious Diseases Society of America|Kidney Disease: Improving Global Outcomes|"
    r"National Comprehensive Cancer Network|European Society (?:of|for) [A-Z][a-z]+(?: (?:and )?[A-Z][a-z]+)*|"
    r"Royal College of [A-Z][a-z]+(?: and [A-Z][a-z]+)?|"
    r"British (?:[A-Z][a-z]+ ){0,2}(?:Society|Association)(?: (?:of|for) [A-Z][a-z]+(?: [A-Z][a-z]+)*"
    r"(?: and [A-Z][A-Za-z]+)?)?|"
    r"American (?:[A-Z][a-z]+ ){0,3}(?:Society|Association|College|Academy)(?: (?:of|for) [A-Z][a-z]+(?: [A-Z][a-z]+)*)?)"
    r"\b"
)
# An acronym that names itself as the publisher: "NICE guideline NG136", "SIGN 158", "WHO guidelines".
_SELF_NAMED = {
    re.compile(
        r"\bNICE (?:guideline|guidance|clinical guideline|quality standard|pathway)s?\b|©\s*NICE\b|nice\.org\.uk"
    ): ("National Institute for Health and Care Excellence"),
    re.compile(r"\bSIGN \d{2,3}\b"): "Scottish Intercollegiate Guidelines Network",
    re.compile(r"\bWHO (?:guidelines?|recommendations?)\b"): "World Health Organization",
}
FRONT_MATTER_CHARS = 4000
SCOPE_CHARS = 1500
# A year the guideline dates itself by: published, issued, updated, reviewed, copyright.
_DATED = re.compile(
    r"(?i)\b(?:published|publication date|issued|date of (?:publication|issue|review)|last (?:updated|reviewed|modified)"
    r"|reviewed|updated|revised|copyright)\b[^\n\d]{0,24}?\b(19[89]\d|20[0-4]\d)\b|©\s*(?:\w+\s+)?(19[89]\d|20[0-4]\d)\b"
)


class DocumentMeta(BaseModel):
    """One indexed guideline as ``index status`` lists it and routing reads it."""

    model_config = ConfigDict(extra="forbid")

    source: str
    title: str
    kind: str = Field(description="File type: txt, md, pdf or html.")
    offsets: str = Field(description="'raw' when quote offsets index the file itself, 'canonical' for the stored text.")
    pages: int | None = None
    statements: int = 0
    scope: str = Field(default="", description="The text of its scope/condition/population sections, shortened.")
    publisher: str | None = None
    year: int | None = None
    references: dict[str, str] = Field(default_factory=dict, description="Reference-list entries by label.")


def describe(document: Document, pages: list[PageSpan], offsets: str) -> DocumentMeta:
    """The metadata of one parsed guideline."""
    head = document.raw[:4000]
    return DocumentMeta(
        source=document.source,
        title=document.title,
        kind=document.source.rsplit(".", 1)[-1].lower() if "." in document.source else "txt",
        offsets=offsets,
        pages=len(pages) or None,
        statements=len(document.statements),
        scope=_scope(document),
        publisher=publisher(document.title, document.raw[:FRONT_MATTER_CHARS]),
        year=_year(_without_references(document, head), document.title),
        references=dict(document.references),
    )


def _scope(document: Document) -> str:
    """Statements under headings that say what the guideline covers, up to :data:`SCOPE_CHARS`."""
    parts: list[str] = []
    for section in document.sections:
        if section.title and _SCOPE_HEADINGS.search(section.title):
            parts.extend(statement.text for statement in section.statements[:6])
    text = " ".join(" ".join(parts).split())
    return text[:SCOPE_CHARS]


def publisher(title: str, front_matter: str) -> str | None:
    """The organisation named in the title or front matter, or None: never guessed from an acronym alone."""
    for text in (title, front_matter):
        found: Counter[str] = Counter()
        for match in _PUBLISHERS.finditer(text):
            # "National Institute for Health and Care Excellence (NICE)": an organisation introducing itself
            introduced = re.match(r"\s*\([A-Z]{2,}\)", text[match.end() : match.end() + 12])
            name = match.group(0).strip()
            if len(name.split()) >= 3:  # "British Society" alone names no one
                found[name] += 2 if introduced else 1
        for pattern, name in _SELF_NAMED.items():
            found[name] += 2 * len(pattern.findall(text))
        found = +found  # drop zero counts
        if found:
            return found.most_common(1)[0][0]
    return None


def _year(head: str, title: str = "") -> int | None:
    """The publication or review year: a dated phrase ("Published 2019", "Last reviewed: March 2021",
    "© 2020") in the opening text, else a year in the title ("2014 AHA/ACC guideline ...").

    Other years in the text are not the guideline's: "Smith 2019" or a reference-list entry
    dates a cited study, and showing it as the guideline's date would mislead.
    """
    dated = [int(match.group(1) or match.group(2)) for match in _DATED.finditer(head)]
    years = dated or [int(year) for year in _YEAR.findall(title)]
    return max(years) if years else None


def _without_references(document: Document, head: str) -> str:
    """The opening text with the reference list (when it starts there) cut off."""
    span = document.reference_span
    return head[: span[0]] if span is not None and span[0] < len(head) else head
