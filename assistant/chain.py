"""The answering chain: retrieve -> select statements -> compose -> (summary) -> guardrail.

It is one LCEL runnable so the CLI, the UI and the evaluations all call the
same object. Answers are extractive by construction: every fact shown is a
verbatim statement with its citation labels. An optional LangChain chat model
may write a short summary above the quotes; the dose guardrail then checks that
summary like any other text and blocks it if it states a dose no quote gives.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answer.compose import LEAD_FOUND, render_answer
from assistant.answer.schema import (
    ABSTAIN_MESSAGE,
    Answer,
    Flag,
    FlagCode,
    Guardrail,
    GuardrailStatus,
    Quote,
    Severity,
    sort_labels,
)
from assistant.retrieval.query import (
    clean_question,
    contains_term,
    default_normalizer,
    medical_lexicon,
    mentions_dosing,
    words,
)
from assistant.retrieval.searcher import GuidelineRetriever, Hit, QueryAnalysis
from assistant.settings import Settings
from assistant.vocabulary.drugs import find_drugs, same_drug

Guard = Callable[[str, Answer], Answer]

# A number followed by a dose unit: statements that state an amount.
_DOSE_PATTERN = re.compile(r"\d\s*(?:mg|g|mcg|µg|μg|ug|units?|iu|ml)\b", re.IGNORECASE)

SUMMARY_INSTRUCTIONS = (
    "You summarize clinical guideline passages for a clinician in at most two sentences. "
    "Use only the passages given. Do not state any dose, number or fact the passages do not contain. "
    "If the passages do not answer the question, say so."
)


@dataclass
class Turn:
    """The state one question carries through the chain."""

    question: str
    k: int | None = None
    hits: list[Hit] = field(default_factory=list)
    analysis: QueryAnalysis | None = None
    selected: list[Hit] = field(default_factory=list)
    abstained: bool = False
    summary: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)


def required_similarity(analysis: QueryAnalysis | None, settings: Settings) -> float:
    """How similar the best statement must be before the corpus is taken to address the question.

    A question naming something the corpus never mentions (another disease, another
    drug) needs the strict bar; one sharing no specific term with the corpus (only
    common words) needs the general bar; a question in the guideline's own terms
    needs only the base bar. The three values are calibrated on the gold set.
    """
    if analysis is None:
        return settings.general_threshold
    if analysis.unknown_terms:
        return settings.strict_threshold
    if not analysis.domain_terms:
        return settings.general_threshold
    return settings.abstain_threshold


def select_statements(
    question: str, hits: list[Hit], settings: Settings, analysis: QueryAnalysis | None = None
) -> tuple[bool, list[Hit]]:
    """Decide whether the corpus addresses the question, and which statements answer it.

    The dense cosine is the one absolute signal (fused scores are only ranks), so
    it decides abstention; statements close to the best one are quoted too, up to
    ``max_quotes``. For a dose question, statements that state an amount go first.
    """
    if not hits:
        return True, []
    required = required_similarity(analysis, settings)
    if max(hit.dense for hit in hits) < required:
        return True, []
    relevance = _relevance(hits, settings.lexical_weight)
    best = max(relevance.values())
    keep = [hit for hit in hits if relevance[hit.chunk.id] >= best - settings.select_margin and hit.dense >= required]
    keep = _about_the_drugs_asked(question, keep)
    dose_first = mentions_dosing(question)
    keep.sort(key=lambda hit: (dose_first and not _DOSE_PATTERN.search(hit.chunk.text), -relevance[hit.chunk.id]))
    return False, _drop_redundant_lead_ins(keep[: settings.max_quotes])


def _relevance(hits: list[Hit], lexical_weight: float) -> dict[str, float]:
    """Cosine plus a share of the BM25 score relative to the best one.

    The lexical part lets an exact rare term (a drug name in a long list) count
    even when the embedding of a long statement is diluted by its other words.
    """
    top_bm25 = max((hit.bm25 for hit in hits), default=0.0) or 1.0
    return {hit.chunk.id: hit.dense + lexical_weight * hit.bm25 / top_bm25 for hit in hits}


def _about_the_drugs_asked(question: str, hits: list[Hit]) -> list[Hit]:
    """When the question names drugs, quote the statements that mention them.

    Without this, a question about IVIG dosing also quotes the rituximab dose
    because both sit in the same section; a clinician skimming the quotes
    could read the wrong number. Falls back to all hits when none mentions them.
    """
    asked = [mention.key for mention in find_drugs(question)]
    if not asked:
        return hits
    about = [
        hit
        for hit in hits
        if any(same_drug(key, m.key) for key in asked for m in find_drugs(f"{hit.chunk.context or ''} {hit.chunk.text}"))
    ]
    return about or hits


def _drop_redundant_lead_ins(selected: list[Hit]) -> list[Hit]:
    """A lead-in sentence adds nothing when one of its bullets is quoted: the bullet shows it as context."""
    contexts = {hit.chunk.context for hit in selected if hit.chunk.context}
    return [hit for hit in selected if hit.chunk.text not in contexts or len(selected) == 1]


def quote_from_hit(hit: Hit) -> Quote:
    chunk = hit.chunk
    return Quote(
        text=chunk.text,
        citations=list(chunk.citations),
        source=chunk.source,
        section=chunk.section,
        context=chunk.context,
        start=chunk.start,
        end=chunk.end,
        score=round(hit.dense, 4),
        chunk_id=chunk.id,
    )


def scope_flags(question: str, selected: list[Hit]) -> list[Flag]:
    """Doses quoted for one condition must not be read as doses for another the question names.

    "What is the IVIG dose in ITP?" retrieves the AIHA guideline's IVIG dose; when no
    quoted statement that states a dose (its text, lead-in, section or document
    title) concerns the condition the question names, say that the guideline gives
    no dose for it.
    """
    dosed = [hit for hit in selected if _DOSE_PATTERN.search(hit.chunk.text)]
    if not dosed or not mentions_dosing(question):
        return []
    normalizer = default_normalizer()
    scope = normalizer.normalize(
        " ".join(f"{h.chunk.title} {h.chunk.section or ''} {h.chunk.context or ''} {h.chunk.text}" for h in dosed)
    )
    titles = ", ".join(dict.fromkeys(f"“{h.chunk.title}”" for h in dosed))
    flags: list[Flag] = []
    for term in dict.fromkeys(words(normalizer.normalize(question))):
        if term not in medical_lexicon().conditions:
            continue
        if any(contains_term(scope, variant) for variant in [term, *normalizer.expansions(term)]):
            continue
        name = term.upper() if len(term) <= 4 else term
        message = (
            f"The question asks about {name}, but no quoted statement that gives a dose concerns {name}: the doses "
            f"below come from {titles} and are not stated for {name}. The passages found give no dose for {name}."
        )
        flags.append(Flag(code=FlagCode.DOSE_NOT_SPECIFIED, severity=Severity.WARN, message=message, text=term))
    return flags


def compose(turn: Turn) -> Answer:
    """The draft answer: lead line and quotes in reading order, or an abstention."""
    if turn.abstained:
        return Answer(question=turn.question, abstained=True, answer=ABSTAIN_MESSAGE)
    ordered = sorted(turn.selected, key=lambda hit: (hit.chunk.source, hit.chunk.start))
    quotes = [quote_from_hit(hit) for hit in ordered]
    flags = scope_flags(turn.question, turn.selected)
    notes = [flag.message for flag in flags] + ([turn.summary] if turn.summary else [])
    lead = "\n\n".join([*notes, LEAD_FOUND])
    return Answer(
        question=turn.question,
        abstained=False,
        answer=render_answer(lead, quotes),
        quotes=quotes,
        citations=sort_labels([label for quote in quotes for label in quote.citations]),
        guardrail=Guardrail(status=GuardrailStatus.WARN if flags else GuardrailStatus.PASS, flags=flags),
    )


def build_chain(
    retriever: GuidelineRetriever,
    settings: Settings,
    guard: Guard | None = None,
    summarizer: BaseChatModel | None = None,
) -> Runnable[Any, Answer]:
    """The LCEL pipeline. Input: a question string or ``{"question": ..., "k": ...}``."""
    if guard is None:
        from assistant.guardrails import apply_guardrail

        guard = apply_guardrail

    def prepare(payload: Any) -> Turn:
        data = payload if isinstance(payload, dict) else {"question": payload}
        question = clean_question(data.get("question"), settings.max_question_chars)
        k = data.get("k")
        if k is not None and (not isinstance(k, int) or k < 1):
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        return Turn(question=question, k=k)

    def retrieve(turn: Turn) -> Turn:
        turn.hits = retriever.hits(turn.question, k=turn.k or settings.k, timings=turn.timings)
        turn.analysis = retriever.searcher.analyze(turn.question)
        return turn

    def select(turn: Turn) -> Turn:
        turn.abstained, turn.selected = select_statements(turn.question, turn.hits, settings, turn.analysis)
        return turn

    def summarize(turn: Turn) -> Turn:
        if summarizer is not None and not turn.abstained and turn.selected:
            turn.summary = _summarize(summarizer, turn)
        return turn

    def finish(turn: Turn) -> Answer:
        draft = compose(turn)
        guard_started = time.perf_counter()
        checked = guard(turn.question, draft)
        timings = dict(turn.timings)
        timings["guardrail"] = (time.perf_counter() - guard_started) * 1000
        timings["total"] = (time.perf_counter() - turn.started) * 1000
        return checked.model_copy(update={"timings_ms": {key: round(value, 2) for key, value in timings.items()}})

    return (
        RunnableLambda(prepare, name="prepare")
        | RunnableLambda(retrieve, name="retrieve")
        | RunnableLambda(select, name="select")
        | RunnableLambda(summarize, name="summarize")
        | RunnableLambda(finish, name="compose_and_guard")
    ).with_config(run_name="guideline_answer")


def _summarize(model: BaseChatModel, turn: Turn) -> str:
    passages = "\n".join(f"- {hit.chunk.text} [{', '.join(hit.chunk.citations)}]" for hit in turn.selected)
    reply = model.invoke(
        [
            SystemMessage(content=SUMMARY_INSTRUCTIONS),
            HumanMessage(content=f"Question: {turn.question}\n\nPassages:\n{passages}"),
        ]
    )
    content = reply.content if isinstance(reply.content, str) else str(reply.content)
    return content.strip()
