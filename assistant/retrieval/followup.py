"""Follow-up questions: "and in children?" asked after "What IVIG dose is used in warm AIHA?".

A follow-up leaves out what the conversation already established (the drug,
the condition, that it is about dosing). Retrieval and the dose guardrail need a
question that stands on its own, so a follow-up is rewritten as the previous
standalone question's subject plus the new words, deterministically, from the
query analysis: no language model decides what a clinician meant. The rewrite
is shown to the user ("Answered as: ...") so they can see what was searched.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from assistant.retrieval.query import Query
from assistant.vocabulary.drugs import find_drugs
from assistant.vocabulary.intent import mentions_dosing

MAX_TURNS = 20

# Openers and pronouns that lean on the previous question; they are only a
# signal when the new question names no drug or condition of its own.
_CUE = re.compile(
    r"^\s*(and|also|what about|how about|what if|same for|and for|and in|and if|or|but|then|in|for|during|"
    r"is it|is that|can it|can they|should it|does it|how long|how often|for how long|what dose|which dose|"
    r"what about the|any)\b",
    re.IGNORECASE,
)
_ANAPHORA = re.compile(r"\b(it|its|that|this|these|those|they|them|same|there)\b", re.IGNORECASE)
_SHORT = 8  # words: a longer question usually carries its own subject


@dataclass(frozen=True)
class Exchange:
    """One answered turn: what was asked, the standalone question it was answered as, and its subject.

    ``subject`` is what a later follow-up carries: the last question that named its
    own subject, so "and in children?" then "how long for?" do not pile up.
    """

    question: str
    standalone: str
    subject: str
    conditions: tuple[str, ...]


@dataclass
class Conversation:
    """The turns of one conversation (the UI's chat, an API conversation id, the CLI's chat).

    Holds only what was asked, never answers, so nothing a guideline said is
    carried into a later question by us.
    """

    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    turns: list[Exchange] = field(default_factory=list)

    def record(self, question: str, standalone: str, subject: str, query: Query) -> None:
        """Remember an answered turn (the oldest are dropped past ``MAX_TURNS``)."""
        self.turns.append(Exchange(question, standalone, subject, query.conditions))
        del self.turns[:-MAX_TURNS]

    @property
    def last(self) -> Exchange | None:
        return self.turns[-1] if self.turns else None

    def clear(self) -> None:
        self.turns.clear()


def is_follow_up(query: Query) -> bool:
    """Whether a question leans on the previous one instead of naming its own subject.

    A question that names a drug or condition, or uses the library's specific
    terms, stands on its own unless it also opens with a follow-up cue or a
    pronoun and is short.
    """
    word_count = len(query.text.split())
    # "doses", "regimen", "schedule" are what is asked, not what it is about
    subject_terms = [term for term in query.domain_terms if not mentions_dosing(term)]
    own_subject = bool(query.drugs or query.conditions or subject_terms or query.unknown_terms or query.unfamiliar_terms)
    cue = bool(_CUE.match(query.text)) or bool(_ANAPHORA.search(query.text))
    if not own_subject:
        # "What is the capital of France?" names no subject of ours either, but it is not a follow-up.
        # "how many doses are given?" asks about the dose of whatever was being discussed.
        return cue or word_count <= 4 or query.dose_intent
    return cue and word_count <= _SHORT and not (query.drugs and query.conditions)


def standalone_question(query: Query, previous: Exchange) -> tuple[str, str]:
    """The follow-up rewritten with the previous subject, and the subject to carry next.

    When the follow-up names its own drug ("what about rituximab?"), the previous
    drug names are dropped from the carried question so the answer is about the
    new drug in the old setting (and that becomes the subject); likewise for a
    newly named condition. Otherwise the subject stays as it was.
    """
    carried = previous.subject
    if query.drugs:
        carried = _without_drugs(carried)
    if query.conditions:
        for condition in previous.conditions:
            carried = re.sub(rf"\b{re.escape(condition)}\b", " ", carried, flags=re.IGNORECASE)
    carried = re.sub(r"\s+", " ", carried).strip().rstrip("?.!: ")
    standalone = f"{carried}: {query.text.strip()}"
    return standalone, standalone if (query.drugs or query.conditions) else previous.subject


def _without_drugs(text: str) -> str:
    """The text with every drug mention removed (spans from the drug vocabulary)."""
    for mention in sorted(find_drugs(text), key=lambda m: m.start, reverse=True):
        text = text[: mention.start] + " " + text[mention.end :]
    return text
