"""The question as the guardrail reads it: one reading per answer, shared by every check.

The chain analyses a question once, into a :class:`~assistant.retrieval.query.Query`;
the guardrail takes that Query (or, from its public API, the question's text) and
reads from it what the dose checks need: the drugs named (misspellings included,
with their intensity: "low-dose IVIG"), whether a dose is asked for, the patient's
weight and height, and the doses the question itself writes. Each is read once, on
first use, instead of once per check.

These are the guardrail's own readings, not the Query's fields: the Query's drugs
are read without typo tolerance and its ``dose_intent`` is broader on purpose (it
only orders statements), so the two would not decide the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from assistant.guardrails.calculator import Measures, find_measures
from assistant.guardrails.doses import Dose, parse_question_doses
from assistant.retrieval.query import Query
from assistant.vocabulary.drugs import DrugMention, find_drugs
from assistant.vocabulary.intent import asks_for_dose


@dataclass(frozen=True)
class Asked:
    """What the question asks, as the dose checks read it; ``text`` is the question as asked."""

    text: str

    @classmethod
    def read(cls, question: Query | str) -> Asked:
        return cls(question.text if isinstance(question, Query) else question)

    @cached_property
    def mentions(self) -> tuple[DrugMention, ...]:
        """Every drug named, where it is written, misspellings included."""
        return tuple(find_drugs(self.text, typos=True))

    @cached_property
    def drugs(self) -> tuple[DrugMention, ...]:
        """The drugs named, once each (by drug and intensity)."""
        seen: set[tuple[str, str | None]] = set()
        found: list[DrugMention] = []
        for mention in self.mentions:
            if (mention.key, mention.modifier) not in seen:
                seen.add((mention.key, mention.modifier))
                found.append(mention)
        return tuple(found)

    @cached_property
    def wants_dose(self) -> bool:
        """Whether a dose or an amount is asked for (see :func:`asks_for_dose`)."""
        return asks_for_dose(self.text)

    @cached_property
    def measures(self) -> Measures:
        """The patient's weight and height as the question writes them."""
        return find_measures(self.text)

    @cached_property
    def doses(self) -> tuple[Dose, ...]:
        """The doses the question itself writes ("Is IVIG 2 g/kg right?")."""
        return tuple(parse_question_doses(self.text))
