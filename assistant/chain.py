"""The answering chain: analyse -> retrieve -> select -> (summary) -> compose -> guardrail.

It is one LCEL runnable so the CLI, the UI and the evaluations all call the
same object. Answers are extractive by construction: every fact shown is a
verbatim statement with its citation labels. An optional LangChain chat model
may write a short summary above the quotes; the dose guardrail then checks that
summary like any other text and withholds it if it states a dose no quote gives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableLambda

from assistant.answer.compose import compose
from assistant.answer.dates import recency_notes
from assistant.answer.populations import population_notes, unknown_term_notes
from assistant.answer.schema import Answer
from assistant.answer.select import quote_from_hit, select_statements
from assistant.errors import InputError
from assistant.guardrails import apply_guardrail
from assistant.guardrails.scope import scope_flags
from assistant.index.verify import library_changed_note
from assistant.present import rendered
from assistant.retrieval.followup import Conversation, is_follow_up, standalone_question
from assistant.retrieval.hit import Hit
from assistant.retrieval.query import Query, clean_question
from assistant.retrieval.ranker import Ranker, ranked_search
from assistant.retrieval.searcher import HybridSearcher
from assistant.settings import Settings
from assistant.vocabulary.grades import check_min_strength, meets

# A guard checks the draft answer to the question's Query (``query.text`` is the question as asked,
# the standalone rewrite for a follow-up) and returns the answer to show.
Guard = Callable[[Query, Answer], Answer]

SUMMARY_INSTRUCTIONS = (
    "You summarize clinical guideline passages for a clinician in at most two sentences. "
    "Use only the passages given. Do not state any dose, number or fact the passages do not contain. "
    "If the passages do not answer the question, say so."
)


@dataclass
class Turn:
    """The state one question carries through the chain; ``query`` is built once, in ``retrieve``."""

    question: str
    k: int | None = None
    documents: tuple[str, ...] = ()
    min_strength: str | None = None  # "strong recommendations only" and the like (None: every statement)
    conversation: Conversation | None = None
    asked_as: str | None = None  # the standalone rewrite of a follow-up
    subject: str | None = None  # what the next follow-up carries
    query: Query | None = None
    hits: list[Hit] = field(default_factory=list)
    selected: list[Hit] = field(default_factory=list)
    abstained: bool = False
    summary: str | None = None
    trust_notes: list[str] = field(default_factory=list)  # why statements were not shown; a changed library
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)


def validate_k(k: object) -> int | None:
    """A per-question ``k`` override: ``None`` (the settings' ``k``) or a whole number >= 1."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InputError(f"k must be a whole number >= 1, got {k!r}")
    return k


def validate_documents(documents: object) -> tuple[str, ...]:
    """A document filter: ``None`` or a list of source names (checked against the index in ``retrieve``)."""
    if documents is None:
        return ()
    if isinstance(documents, str) or not isinstance(documents, (list, tuple)):
        raise InputError("documents must be a list of guideline names (as in quotes[].source).")
    if not all(isinstance(name, str) and name.strip() for name in documents):
        raise InputError("documents must be a list of non-empty guideline names.")
    return tuple(documents)


def strength_notes(minimum: str | None) -> list[str]:
    """Say that a grade filter was on, so a clinician knows weaker or ungraded statements were left out."""
    if not minimum:
        return []
    return [f"Only recommendations the guideline grades as {minimum} or stronger were searched (grade filter on)."]


def validate_min_strength(value: object, default: str | None) -> str | None:
    """A per-question ``min_strength``: None (the settings' value), "" (no filter) or strong/conditional/weak."""
    if value is None:
        return default
    try:
        return check_min_strength(value)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def build_chain(
    searcher: HybridSearcher,
    settings: Settings,
    guard: Guard | None = None,
    summarizer: BaseChatModel | None = None,
    ranker: Ranker | None = None,
) -> Runnable[Any, Answer]:
    """The LCEL pipeline.

    Input: a question string, or ``{"question": ..., "k": ..., "documents": [...], "conversation": Conversation}``.
    ``ranker`` orders the searcher's candidates (default: the one stored with the index, else the shipped one).
    """
    ranker = ranker or Ranker.load(searcher.chunks, settings.index_dir)
    unranked = ranker.unranked()
    def prepare(payload: Any) -> Turn:
        data = payload if isinstance(payload, dict) else {"question": payload}
        question = clean_question(data.get("question"), settings.max_question_chars)
        conversation = data.get("conversation")
        if conversation is not None and not isinstance(conversation, Conversation):
            raise InputError("conversation must come from Assistant.new_conversation().")
        return Turn(
            question=question,
            k=validate_k(data.get("k")),
            documents=validate_documents(data.get("documents")),
            min_strength=validate_min_strength(data.get("min_strength"), settings.min_strength),
            conversation=conversation,
        )

    def retrieve(turn: Turn) -> Turn:
        query = searcher.analyze(turn.question)
        previous = turn.conversation.last if turn.conversation else None
        if previous is not None and is_follow_up(query):
            turn.asked_as, turn.subject = standalone_question(query, previous)
            query = searcher.analyze(turn.asked_as)
        turn.query = searcher.with_min_strength(searcher.restrict(query, turn.documents), turn.min_strength)
        k = settings.k if turn.k is None else turn.k
        # A follow-up rewritten as "<previous question>: and after the birth?" is a question shape the
        # ranker never saw in training (the earlier question's words dominate it): the searcher's order
        # and similarity selection answer it, as before the ranker.
        order = unranked if turn.asked_as else ranker
        turn.hits = ranked_search(searcher, order, turn.query, k, settings.rank_depth, turn.timings)
        return turn

    def select(turn: Turn) -> Turn:
        assert turn.query is not None
        if turn.min_strength:  # the search already kept to graded statements; nothing else slips in
            turn.hits = [hit for hit in turn.hits if meets(hit.chunk.grade, turn.min_strength)]
        turn.abstained, turn.selected = select_statements(turn.query, turn.hits, settings)
        # Only what will be shown (and the statements of the same files the guardrail reads) is checked
        # against the files: re-extracting a PDF takes seconds, so not every candidate is.
        quoted = {hit.chunk.source for hit in turn.selected}
        checked, turn.trust_notes = checked_against_files(searcher, [hit for hit in turn.hits if hit.chunk.source in quoted])
        kept = {hit.chunk.id for hit in checked}
        turn.hits = [hit for hit in turn.hits if hit.chunk.source not in quoted or hit.chunk.id in kept]
        turn.selected = [hit for hit in turn.selected if hit.chunk.id in kept]
        turn.abstained = turn.abstained or not turn.selected
        return turn

    def summarize(turn: Turn) -> Turn:
        if summarizer is not None and not turn.abstained and turn.selected:
            turn.summary = _summarize(summarizer, turn)
        return turn

    def finish(turn: Turn) -> Answer:
        assert turn.query is not None
        flags = [] if turn.abstained else scope_flags(turn.query, turn.selected)
        notes = [] if turn.abstained else [
            *strength_notes(turn.min_strength),
            *recency_notes(turn.query, turn.selected),
            *unknown_term_notes(turn.query, turn.selected),
            *population_notes(turn.query, turn.selected),
        ]
        draft = compose(turn.question, turn.selected, turn.abstained, flags, turn.summary, notes)
        draft = draft.model_copy(
            update={
                "asked_as": turn.asked_as,
                "documents": list(turn.documents),
                "notes": list(dict.fromkeys([*turn.trust_notes, *draft.notes])),
            }
        )
        guard_started = time.perf_counter()
        if guard is None:
            # Every statement retrieved (and every dose statement for an asked drug in the best
            # guidelines) may settle "is a dose given?", not only the ones quoted.
            # Only from the guidelines already quoted: a dose from another guideline is a guess.
            quoted = {hit.chunk.source for hit in turn.selected}
            statements = [quote_from_hit(hit) for hit in turn.hits if hit.chunk.source in quoted]
            checked = apply_guardrail(turn.query, draft, statements=statements)
        else:
            checked = guard(turn.query, draft)
        if turn.conversation is not None:
            standalone = turn.asked_as or turn.question
            turn.conversation.record(turn.question, standalone, turn.subject or standalone, turn.query)
        timings = dict(turn.timings)
        timings["guardrail"] = (time.perf_counter() - guard_started) * 1000
        timings["total"] = (time.perf_counter() - turn.started) * 1000
        # Rendered once, after the guardrail: the Markdown shows exactly the checked answer.
        return rendered(checked).model_copy(
            update={"timings_ms": {key: round(value, 2) for key, value in timings.items()}}
        )

    return (
        RunnableLambda(prepare, name="prepare")
        | RunnableLambda(retrieve, name="retrieve")
        | RunnableLambda(select, name="select")
        | RunnableLambda(summarize, name="summarize")
        | RunnableLambda(finish, name="compose_and_guard")
    ).with_config(run_name="guideline_answer")


def checked_against_files(searcher: HybridSearcher, hits: list[Hit]) -> tuple[list[Hit], list[str]]:
    """Only statements that match their guideline file today go on; a note says why any did not.

    Also the cheap freshness check: when the library changed since the index was
    built (a long-running server or UI), every answer says so until it is rebuilt.
    """
    loaded = searcher.loaded
    if loaded.corpus_dir is None:  # an index made in memory (benchmarks) has no files to check against
        return hits, []
    verdicts, notes = loaded.shown.filter([hit.chunk for hit in hits])
    if (changed := loaded.shown.library_changes(loaded.corpus_dir)):
        notes = [library_changed_note(changed), *notes]
    return [hit for hit, ok in zip(hits, verdicts, strict=True) if ok], notes


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
