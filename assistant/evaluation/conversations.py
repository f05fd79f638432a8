"""The conversation evaluation: multi-turn conversations asked through the real chain, turn by turn.

The gold set (:mod:`assistant.evaluation.gold`) asks every question on its own; a follow-up
("and in children?", "what about rituximab?") only means something after an earlier turn, so
conversations are scored apart, from a JSON Lines file (``evals/conversations.jsonl``), one
conversation per line::

    {"id": "ivig-then-rituximab", "turns": [
        {"question": "What IVIG dose is used in warm AIHA?", "expect": {"facts": ["1 g/kg"]}},
        {"question": "what about rituximab?",
         "expect": {"asked_as_contains": ["rituximab"], "facts": ["375 mg/m²"]}}]}

What a turn's ``expect`` may say (each key optional, each checked only when given):

* ``abstain``: the answer must (true) or must not (false) abstain;
* ``facts``: strings that must appear in the quoted text (normalized as gold facts are);
* ``asked_as_contains``: strings the standalone rewrite (``Answer.asked_as``) must contain,
  so the turn must have been understood as a follow-up;
* ``rewritten``: false when the turn names its own subject and must be answered as asked;
* ``source``: the guideline file every quote must come from;
* ``flags`` / ``not_flags``: guardrail flag codes that must / must not be raised;
* ``not_addressed``: terms the guideline does not cover; the answer must abstain, or say so
  (each term in its lead, notes or flag messages) instead of quoting unrelated advice.

Every turn is asked with one ``Assistant.new_conversation()`` per conversation, so the
scores measure the same follow-up handling the chat, the CLI and the HTTP API use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from assistant.answer.schema import Answer, FlagCode
from assistant.evaluation.gold import TAG_PATTERN, load_jsonl, normalize_fact
from assistant.evaluation.metrics import Metrics, format_metric, quoted_text, share
from assistant.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from assistant.assistant import Assistant

DEFAULT_CONVERSATIONS = PROJECT_ROOT / "evals" / "conversations.jsonl"
_FLAG_CODES = frozenset(code.value for code in FlagCode)


class TurnExpect(BaseModel):
    """What a correct answer to one turn must show (every key optional)."""

    model_config = ConfigDict(extra="forbid")

    abstain: bool | None = None
    facts: list[str] = Field(default_factory=list)
    asked_as_contains: list[str] = Field(default_factory=list)
    rewritten: bool | None = None
    source: str | None = None
    flags: list[str] = Field(default_factory=list)
    not_flags: list[str] = Field(default_factory=list)
    not_addressed: list[str] = Field(default_factory=list)

    @field_validator("facts", "asked_as_contains", "not_addressed")
    @classmethod
    def _no_blank_entries(cls, value: list[str]) -> list[str]:
        if any(not entry.strip() for entry in value):
            raise ValueError("must not contain empty strings")
        return value

    @field_validator("flags", "not_flags")
    @classmethod
    def _known_flag_codes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - _FLAG_CODES)
        if unknown:
            raise ValueError(f"unknown flag code(s) {unknown}; codes are {sorted(_FLAG_CODES)}")
        return value


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1)
    expect: TurnExpect = Field(default_factory=TurnExpect)


class ConversationCase(BaseModel):
    """One conversation: two or more turns asked in order in one conversation."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    turns: list[Turn] = Field(min_length=2)
    tags: list[str] = Field(default_factory=list)
    note: str | None = None

    @field_validator("tags")
    @classmethod
    def _well_formed_tags(cls, value: list[str]) -> list[str]:
        if any(not TAG_PATTERN.fullmatch(tag) for tag in value):
            raise ValueError("a tag is lower-case letters, digits and hyphens")
        return value


def load_conversations(path: str | Path) -> list[ConversationCase]:
    """Read a conversation file; a bad line raises ``ValueError`` naming the file and line number."""
    return load_jsonl(path, ConversationCase, "conversation", "conversation file")


# --------------------------------------------------------------------------- one turn's verdict


def turn_problems(expect: TurnExpect, answer: Answer) -> list[str]:
    """Why one answered turn fails its expectations, in words; empty when it passes."""
    problems: list[str] = []
    if expect.abstain is not None and answer.abstained != expect.abstain:
        problems.append("answered a question it should abstain on" if expect.abstain else "abstained")
    if expect.facts and not answer.abstained:
        text = normalize_fact(quoted_text(answer))
        missing = [fact for fact in expect.facts if normalize_fact(fact) not in text]
        if missing:
            problems.append(f"facts not quoted: {missing}")
    problems += _rewrite_problems(expect, answer)
    if expect.source is not None:
        others = sorted({quote.source for quote in answer.quotes} - {expect.source})
        if others:
            problems.append(f"quotes from {others}, expected only {expect.source}")
    raised = {flag.code.value for flag in answer.guardrail.flags}
    if set(expect.flags) - raised:
        problems.append(f"flags not raised: {sorted(set(expect.flags) - raised)}")
    if set(expect.not_flags) & raised:
        problems.append(f"flags raised that must not be: {sorted(set(expect.not_flags) & raised)}")
    problems += _scope_problems(expect, answer)
    return problems


def _rewrite_problems(expect: TurnExpect, answer: Answer) -> list[str]:
    """Whether the turn was understood as a follow-up (or as standalone) as expected."""
    asked_as = (answer.asked_as or "").lower()
    if expect.asked_as_contains and answer.asked_as is None:
        return [f"not understood as a follow-up (asked_as is null; expected it to contain {expect.asked_as_contains})"]
    missing = [part for part in expect.asked_as_contains if part.lower() not in asked_as]
    problems = [f"asked_as {answer.asked_as!r} lacks {missing}"] if missing else []
    if expect.rewritten is not None and (answer.asked_as is not None) != expect.rewritten:
        problems.append(
            f"rewritten as {answer.asked_as!r} although it names its own subject"
            if answer.asked_as is not None
            else "answered as asked, expected a follow-up rewrite"
        )
    return problems


def _scope_problems(expect: TurnExpect, answer: Answer) -> list[str]:
    """A question about what the guideline does not cover: abstain, or say so in our own words."""
    if not expect.not_addressed or answer.abstained:
        return []
    said = " ".join([answer.lead, *answer.notes, *(flag.message for flag in answer.guardrail.flags)]).lower()
    unsaid = [term for term in expect.not_addressed if term.lower() not in said]
    if not unsaid:
        return []
    return [f"answered with quotes and no note that the guideline does not address {unsaid}"]


# --------------------------------------------------------------------------- a whole file


@dataclass
class TurnResult:
    """One asked turn: where it sits, what came back, and what was wrong."""

    conversation: str
    index: int
    question: str
    asked_as: str | None
    abstained: bool
    problems: list[str] = field(default_factory=list)

    @property
    def follow_up(self) -> bool:
        """Every turn after the first leans on the conversation (or must show it does not)."""
        return self.index > 0


@dataclass
class ConversationScore:
    """The scored file: every turn's result, and the figures a report leads with."""

    results: list[TurnResult]

    @property
    def failures(self) -> list[TurnResult]:
        return [result for result in self.results if result.problems]

    def metrics(self) -> Metrics:
        """Pass rates over turns, follow-up turns and whole conversations (None when there are none)."""
        follow_ups = [r for r in self.results if r.follow_up]
        ids = list(dict.fromkeys(r.conversation for r in self.results))
        failed_ids = {r.conversation for r in self.failures}
        return {
            "conversations.count": float(len(ids)),
            "conversations.turns": float(len(self.results)),
            "conversations.turn_pass_rate": share(sum(not r.problems for r in self.results), len(self.results)),
            "conversations.follow_up_turns": float(len(follow_ups)),
            "conversations.follow_up_pass_rate": share(sum(not r.problems for r in follow_ups), len(follow_ups)),
            "conversations.passed_rate": share(len(ids) - len(failed_ids), len(ids)),
        }


def score_conversations(
    assistant: Assistant,
    cases: Sequence[ConversationCase] | str | Path,
    k: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ConversationScore:
    """Ask every conversation, turn by turn in one conversation each, and check every turn."""
    loaded = load_conversations(cases) if isinstance(cases, (str, Path)) else list(cases)
    total = sum(len(case.turns) for case in loaded)
    results: list[TurnResult] = []
    for case in loaded:
        conversation = assistant.new_conversation()
        for index, turn in enumerate(case.turns):
            answer = assistant.ask(turn.question, k=k, conversation=conversation)
            problems = turn_problems(turn.expect, answer)
            results.append(TurnResult(case.id, index, turn.question, answer.asked_as, answer.abstained, problems))
            if progress:
                progress(len(results), total)
    return ConversationScore(results)


def render_conversation_report(score: ConversationScore) -> str:
    """Markdown: the figures, then every failing turn with what it was answered as and why it fails."""
    metrics = score.metrics()
    lines = [
        "# Conversation evaluation",
        "",
        "| Metric | Value |",
        "|---|---|",
        *[f"| {name} | {format_metric(value)} |" for name, value in metrics.items()],
        "",
        f"## Failing turns ({len(score.failures)} of {len(score.results)})",
        "",
    ]
    if not score.failures:
        lines.append("None.")
    for result in score.failures:
        shown = "abstained" if result.abstained else f"answered as {result.asked_as!r}" if result.asked_as else "answered"
        lines.append(f"- `{result.conversation}` turn {result.index + 1} ({result.question!r}, {shown}):")
        lines += [f"  - {problem}" for problem in result.problems]
    return "\n".join(lines) + "\n"
