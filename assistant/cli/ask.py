"""``ask``: quoted, cited answers in the terminal or as JSON."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from assistant.answer.schema import Answer
from assistant.cli.common import (
    EXIT_FAILURE,
    EXIT_INPUT,
    EXIT_OK,
    CorpusOpt,
    IndexOpt,
    KOpt,
    app,
    err,
    escape,
    fail,
    load_assistant,
    out,
    settings_for,
)
from assistant.errors import AssistantError, InputError
from assistant.present.terminal import renderables
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.assistant import Assistant
    from assistant.retrieval.followup import Conversation


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, or '-' to read one question per line from stdin.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON (one object per line).")] = False,
    k: KOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    doc: Annotated[
        list[str] | None,
        typer.Option("--doc", help="Answer only from this guideline (as in quotes[].source); repeatable."),
    ] = None,
    min_strength: Annotated[
        str | None,
        typer.Option(
            "--min-strength",
            help="Quote only recommendations the guideline grades at least this strong: strong, conditional or weak.",
        ),
    ] = None,
    conversation: Annotated[
        bool,
        typer.Option(
            "--conversation",
            help="With '-': the lines are one conversation, so a follow-up like 'and in children?' keeps its subject.",
        ),
    ] = False,
) -> None:
    """Answer a question with quoted, cited guideline statements."""
    if question != "-":
        try:
            from assistant.retrieval.query import clean_question

            clean_question(question, Settings().max_question_chars)
        except InputError as exc:
            raise fail(exc) from None
    try:
        assistant = load_assistant(settings_for(corpus, index).with_overrides(min_strength=min_strength))
    except AssistantError as exc:
        raise fail(exc) from None
    if question == "-":
        talk = assistant.new_conversation() if conversation else None
        raise typer.Exit(_ask_batch(assistant, as_json, k, doc, talk))
    try:
        answer = assistant.ask(question, k=k, documents=doc, client=cli_user())
    except AssistantError as exc:
        raise fail(exc) from None
    if as_json:
        print(answer.model_dump_json())
    else:
        print_answer(answer)


def _ask_batch(
    assistant: Assistant,
    as_json: bool,
    k: int | None,
    documents: list[str] | None = None,
    conversation: Conversation | None = None,
) -> int:
    """One question per input line; blank lines skipped; a bad line reports its error and the rest go on."""
    status = EXIT_OK
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            answer = assistant.ask(
                line.rstrip("\n"), k=k, documents=documents, conversation=conversation, client=cli_user()
            )
        except AssistantError as exc:
            status = EXIT_INPUT if isinstance(exc, InputError) else EXIT_FAILURE
            if as_json:
                print(json.dumps({"line": number, "question": line.strip()[:200], "error": str(exc)}), flush=True)
            else:
                err.print(f"[red]Line {number}:[/red] {escape(str(exc))}")
            continue
        if as_json:
            print(answer.model_dump_json(), flush=True)
        else:
            out.rule(escape(answer.question[:80]))
            print_answer(answer)
    return status


def print_answer(answer: Answer) -> None:
    """The answer as the terminal view draws it: alerts first (titled and coloured by the flag policy), once each."""
    for part in renderables(answer):
        out.print(part)


def cli_user() -> str:
    """Who asked, for the audit log of answers (``Settings.audit_answers``): ``cli:<user name>``."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return "cli"
