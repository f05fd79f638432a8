"""The answer schema: what ``ask --json`` prints and ``Answer.model_dump()`` returns.

These are the values that cross every boundary after the chain (CLI, UI,
evaluations), so they are pydantic models with a fixed, documented shape.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.vocabulary.grades import Grade

ABSTAIN_MESSAGE = "The guideline text does not address this question."
LEAD_FOUND = "The guideline says (quoted verbatim):"


class GuardrailStatus(str, Enum):
    """Outcome of the dose guardrail for one answer."""

    PASS = "pass"
    WARN = "warn"
    BLOCK = "block"


class FlagCode(str, Enum):
    """Why the guardrail raised a flag (documented in the README)."""

    DOSE_NOT_IN_SOURCE = "dose_not_in_source"
    DOSE_MISMATCH = "dose_mismatch"
    DOSE_UNIT_MISMATCH = "dose_unit_mismatch"
    DOSE_FREQUENCY_MISMATCH = "dose_frequency_mismatch"
    DOSE_NOT_SPECIFIED = "dose_not_specified"
    DOSE_FORMAT_RISK = "dose_format_risk"
    CALCULATION = "calculation"
    CALCULATION_REFUSED = "calculation_refused"
    # The question names a combination, route or population the quoted dose is not stated for.
    DOSE_OTHER_CONTEXT = "dose_other_context"
    # One drug has different doses in different quoted statements (indications, sections or guidelines).
    DOSES_DIFFER = "doses_differ"


class Severity(str, Enum):
    """How serious a flag is: ``block`` for a tenfold slip, an impossible unit or a course total >= 10x."""

    INFO = "info"
    WARN = "warn"
    BLOCK = "block"


class Risk(str, Enum):
    """What kind of harm a dose flag is about, machine-readable (documented in docs/dose-guardrail.md).

    Faces and API clients decide how loudly to show a flag from ``severity`` and ``risk``
    only, never from the English message.
    """

    TENFOLD = "tenfold"  # the amount is 10, 100, 1000 or 10^6 times the guideline's (a decimal or unit slip)
    AMOUNT = "amount"  # the amount per dose differs otherwise
    OVERDOSE_TOTAL = "overdose_total"  # the daily or per-course total is >= 2x the guideline's
    ROUTE = "route"  # another route than the guideline's (written or implied by the formulation)
    FREQUENCY = "frequency"  # given more or less often than the guideline says
    COURSE = "course"  # course length, repetitions, taper or abrupt stop differ
    UNIT = "unit"  # another or an impossible unit or basis (mg vs mg/kg, kg/kg)
    POPULATION = "population"  # the dose is stated for another population, route or combination than asked
    FORMAT = "format"  # a way of writing the amount that causes tenfold errors (naked decimal, hidden characters)


class Reference(BaseModel):
    """One entry of a guideline's reference list, resolved from a citation label of that guideline."""

    model_config = ConfigDict(extra="forbid")

    label: str
    text: str


class Quote(BaseModel):
    """One guideline statement quoted verbatim: ``raw[start:end] == text``.

    For a text file ``raw`` is the file itself; for a PDF, an HTML page or a
    repaired text file it is the canonical text the index stores
    (``index/texts/<source>.txt``). ``offsets`` says which.
    """

    model_config = ConfigDict(extra="forbid")

    text: str
    citations: list[str] = Field(default_factory=list)
    source: str = Field(description="Path relative to the corpus folder.")
    title: str | None = Field(default=None, description="The guideline's title, as the index read it.")
    section: str | None = None
    direct: bool = Field(
        default=False, description="True for the one statement that best answers the question (shown first)."
    )
    context: str | None = Field(default=None, description="Lead-in sentence for a bullet item, else null.")
    start: int
    end: int
    score: float = 0.0
    chunk_id: str
    page: int | None = Field(default=None, description="1-based page index in the PDF; null for unpaged files.")
    page_label: str | None = Field(default=None, description="The printed page label, where the PDF defines one.")
    offsets: Literal["raw", "canonical"] = Field(
        default="raw", description="'raw': start/end index the file; 'canonical': the index's stored text of it."
    )
    kind: str = Field(default="sentence", description="sentence, bullet or table_row.")
    references: list[Reference] = Field(
        default_factory=list, description="This guideline's reference-list entries for the quote's citation labels."
    )
    grade: Grade | None = Field(
        default=None,
        description="How strong the guideline says this recommendation is: {system, strength, evidence, text, start, "
        "end, meaning}; text is verbatim at start:end of the same text as the quote; null when ungraded.",
    )
    year: int | None = Field(default=None, description="The guideline's publication or review year, when it states one.")


class DoseInfo(BaseModel):
    """A dose found in a quoted statement (filled by the dose guardrail)."""

    model_config = ConfigDict(extra="forbid")

    text: str
    drug: str | None = None
    amount: float | list[float] | None = None
    unit: str | None = None
    basis: str | None = None
    per: str | None = None
    route: str | None = None
    schedule: str | None = None
    course: str | None = None
    citations: list[str] = Field(default_factory=list)
    source: str | None = None
    title: str | None = Field(default=None, description="The guideline's title (the quote's `title`).")
    section: str | None = Field(default=None, description="The section (indication) the dose is stated in.")
    page: int | None = Field(default=None, description="1-based PDF page of the statement; null for unpaged files.")
    page_label: str | None = Field(default=None, description="The printed page label, where the PDF defines one.")
    start: int | None = None
    end: int | None = None


class Flag(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: FlagCode
    severity: Severity
    message: str
    text: str | None = Field(default=None, description="The text the flag is about (a dose, a quote).")
    risk: Risk | None = Field(
        default=None, description="Machine-readable kind of harm (tenfold, overdose_total, route, ...); null: none."
    )


class Guardrail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: GuardrailStatus = GuardrailStatus.PASS
    flags: list[Flag] = Field(default_factory=list)


class Answer(BaseModel):
    """A complete, checkable answer to one question."""

    model_config = ConfigDict(extra="forbid")

    question: str
    abstained: bool
    answer: str = Field(
        default="",
        description="The whole answer as Markdown, rendered once from the fields below by assistant.present after "
        "the guardrail (kept for scripts that read it; faces render the fields themselves).",
    )
    asked_as: str | None = Field(
        default=None,
        description="For a follow-up in a conversation: the standalone question it was answered as; else null.",
    )
    documents: list[str] = Field(
        default_factory=list, description="The guidelines the question was restricted to (empty: the whole library)."
    )
    lead: str = Field(default="", description="Our own framing line above the quotes, or the abstention message.")
    notes: list[str] = Field(
        default_factory=list,
        description="The assistant's own sentences shown above the quotes (scope and guardrail notes); never quoted text.",
    )
    summary: str | None = Field(default=None, description="A generated summary, when a summarizer is configured.")
    summary_withheld: bool = Field(
        default=False, description="True when the guardrail withheld a generated summary that stated an unquoted dose."
    )
    quotes: list[Quote] = Field(default_factory=list)
    citations: list[str] = Field(default_factory=list)
    citations_by_source: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Citation labels per guideline: [1] of one guideline is never merged with [1] of another.",
    )
    doses: list[DoseInfo] = Field(default_factory=list)
    guardrail: Guardrail = Field(default_factory=Guardrail)
    timings_ms: dict[str, float] = Field(default_factory=dict)

    @property
    def markdown(self) -> str:
        """The whole answer as Markdown: the schema's ``answer`` field, filled once after the guardrail."""
        return self.answer

    def direct_quote(self) -> Quote | None:
        """The statement marked as the direct answer, if any."""
        return next((quote for quote in self.quotes if quote.direct), None)

    def quote_groups(self) -> list[QuoteGroup]:
        """The quotes grouped by document, then section, in the order they are shown."""
        groups: list[QuoteGroup] = []
        for quote in self.quotes:
            if groups and groups[-1].source == quote.source and groups[-1].section == quote.section:
                groups[-1].quotes.append(quote)
            else:
                groups.append(QuoteGroup(source=quote.source, section=quote.section, quotes=[quote]))
        return groups


class QuoteGroup(BaseModel):
    """Consecutive quotes from one section of one guideline (for rendering one "whole section" view)."""

    source: str
    section: str | None
    quotes: list[Quote]


def sort_labels(labels: list[str] | set[str]) -> list[str]:
    """Citation labels in numeric order where numeric, then the rest alphabetically."""
    unique = set(labels)
    return sorted(unique, key=lambda label: (0, int(label), "") if label.isdigit() else (1, 0, label))
